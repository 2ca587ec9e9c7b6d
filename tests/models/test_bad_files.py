"""A malformed GGUF anywhere scanned is one warning naming it; every other model stays usable."""

import os
import pathlib

import pytest
from helpers.gguf_files import STRING, UINT32, RawArray, tiny_model_metadata, write_gguf

from jupyter_tinyai import cli
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.errors import ModelFileError
from jupyter_tinyai.formats import gguf_file
from jupyter_tinyai.formats.gguf_file import read_gguf
from jupyter_tinyai.models import list_models, resolve

BUNDLED = "llamacpp:SmolLM2-135M-Instruct-Q4_1"


@pytest.fixture
def settings():
    return load_settings(host="inprocess")


def _with(**changes) -> dict:
    metadata = tiny_model_metadata()
    metadata.update({key.replace("__", "."): value for key, value in changes.items()})
    return metadata


@pytest.mark.parametrize(
    "metadata, key",
    [
        (_with(general__file_type=[1, 2]), "general.file_type"),
        (_with(general__alignment="32"), "general.alignment"),
        (_with(general__alignment=48), "general.alignment"),  # not a power of two
        (_with(general__architecture=7), "general.architecture"),
        (_with(llama__context_length="4096"), "llama.context_length"),
        (_with(llama__block_count=["2"]), "llama.block_count"),
        (_with(general__type=["adapter"]), "general.type"),
        (_with(tokenizer__chat_template=3), "tokenizer.chat_template"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_file_and_the_key(tmp_path, metadata, key):
    path = write_gguf(tmp_path / "bad.gguf", metadata)
    with pytest.raises(ModelFileError) as error:
        read_gguf(path)
    assert path in str(error.value) and repr(key) in str(error.value)


class CountingOpen:
    """``open`` for the GGUF reader that counts the files opened and the bytes read."""

    def __init__(self):
        self.opened = 0
        self.bytes_read = 0

    def __call__(self, *args, **kwargs):
        self.opened += 1
        handle = open(*args, **kwargs)  # noqa: SIM115 - handed back to the code under test, which closes it
        counter = self
        real_read = handle.read

        class Handle:
            def __getattr__(self, name):
                return getattr(handle, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                handle.close()

            def read(self, n=-1):
                data = real_read(n)
                counter.bytes_read += len(data)
                return data

        return Handle()


@pytest.mark.parametrize("item_type, payload", [(UINT32, b"\0" * 4_000_000), (STRING, b"\0" * 8 * 500_000)])
def test_a_30_million_element_array_is_refused_by_its_count(tmp_path, monkeypatch, item_type, payload):
    metadata = _with(general__big=RawArray(item_type, 30_000_000, payload))
    path = write_gguf(tmp_path / "big.gguf", metadata)
    counting = CountingOpen()
    monkeypatch.setattr(gguf_file, "open", counting, raising=False)
    with pytest.raises(ModelFileError, match=r"'general.big' claims 30,000,000 elements"):
        read_gguf(path)
    assert counting.opened == 1 and counting.bytes_read < 4096  # not the 4 MB that follow
    with pytest.raises(ModelFileError):  # refused once per file version: not read again
        read_gguf(path)
    assert counting.opened == 1


def test_a_header_claiming_more_than_the_cap_is_refused_before_reading_it(tmp_path, monkeypatch):
    monkeypatch.setattr(gguf_file, "MAX_HEADER_BYTES", 1 << 16)
    words = ["w" * 100] * 1000  # about 108 KB of strings: more than the (lowered) cap
    path = write_gguf(tmp_path / "long.gguf", _with(general__words=words), data_bytes=1 << 17)
    with pytest.raises(ModelFileError, match="header is larger than"):
        read_gguf(path)


def test_long_arrays_are_skipped_and_short_ones_kept(tmp_path):
    per_layer = [4, 2]
    path = write_gguf(
        tmp_path / "ok.gguf",
        _with(llama__attention__head_count_kv=per_layer, tokenizer__ggml__tokens=["a", "b"], general__scores=list(range(5000))),
    )
    info = read_gguf(path)
    assert info.metadata["llama.attention.head_count_kv"] == per_layer
    assert "tokenizer.ggml.tokens" not in info.metadata and "general.scores" not in info.metadata
    assert info.kv_bytes_per_token() == 2 * 2 * 2 * 64 * 4 // 4


def _hub_file(repo: str, name: str, metadata: dict) -> str:
    return write_gguf(pathlib.Path(os.environ["HF_HUB_CACHE"], f"models--someone--{repo}", "snapshots", "r1", name), metadata)


@pytest.fixture
def bad_hub(make_gguf):
    """Three malformed GGUFs and a good one in the Hugging Face cache."""
    bad = [
        _hub_file("ArrayType", "array-type.gguf", _with(general__file_type=[1, 2])),
        _hub_file("StringAlign", "string-align.gguf", _with(general__alignment="32")),
        _hub_file("Huge", "huge.gguf", _with(general__big=RawArray(UINT32, 30_000_000, b"\0" * 1024))),
    ]
    make_gguf(pathlib.Path(os.environ["HF_HUB_CACHE"], "models--someone--Good", "snapshots", "r1", "good.Q8_0.gguf"), file_type=7)
    return bad


def test_bad_files_are_one_warning_each_and_every_other_model_is_usable(settings, bad_hub):
    specs = list_models(settings)
    models = [m.id for m in specs if not m.warning]
    assert models[0] == BUNDLED and "llamacpp:good-Q8_0" in models
    warnings = [m.warning for m in specs if m.warning]
    assert len(warnings) == len(bad_hub) and not any("\n" in w for w in warnings)
    assert all(any(path in w for w in warnings) for path in bad_hub)
    assert resolve("smollm2", settings).id == BUNDLED
    assert resolve(None, settings).id == BUNDLED
    assert resolve("good", settings).id == "llamacpp:good-Q8_0"


def test_a_bad_file_named_directly_is_its_error(settings, bad_hub):
    with pytest.raises(ModelFileError, match="general.file_type"):
        resolve(bad_hub[0], settings)


def test_an_adapter_next_to_the_models_is_left_out_quietly(settings, tmp_path, make_gguf):
    make_gguf(tmp_path / "models" / "m.gguf")
    write_gguf(tmp_path / "models" / "lora.gguf", _with(general__type="adapter"))
    settings.model_dirs = [str(tmp_path / "models")]
    found = [m for m in list_models(settings) if m.source == "model_dirs"]
    assert [(m.id, m.warning) for m in found] == [("llamacpp:m", "")]


def test_cli_models_prints_one_warning_line_per_bad_file(bad_hub, capsys):
    assert cli.main(["models", "--in-process"]) == 0
    out, err = capsys.readouterr()
    assert any(line.startswith(BUNDLED) for line in out.splitlines())
    assert "llamacpp:good-Q8_0" in out
    lines = err.splitlines()
    assert len(lines) == len(bad_hub) and all(line.startswith("warning: not listed: ") for line in lines)
    assert all(any(path in line for line in lines) for path in bad_hub)
    assert "Traceback" not in out + err


def test_a_pulled_model_whose_blob_was_deleted_is_one_warning(settings, make_gguf, capsys):
    repo = pathlib.Path(os.environ["HF_HUB_CACHE"], "models--someone--Gone-GGUF")
    blob = make_gguf(repo / "blobs" / ("ab" * 32), file_type=7)
    link = repo / "snapshots" / "r1" / "gone.Q8_0.gguf"
    link.parent.mkdir(parents=True)
    link.symlink_to(os.path.relpath(blob, link.parent))
    assert "llamacpp:gone-Q8_0" in [m.id for m in list_models(settings)]
    os.remove(blob)
    specs = list_models(settings)
    [warning] = [m.warning for m in specs if m.warning]
    assert str(link) in warning and "`jupyter tinyai pull someone/Gone-GGUF`" in warning and "`rm`" in warning
    assert "\n" not in warning and "llamacpp:gone-Q8_0" not in [m.id for m in specs]
    assert cli.main(["models", "--in-process"]) == 0
    out, err = capsys.readouterr()
    assert sum(str(link) in line for line in (out + err).splitlines()) == 1
