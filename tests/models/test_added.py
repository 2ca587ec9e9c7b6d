"""`jupyter tinyai models --add PATH`: registered models persist and are listed as "added"."""

import json
import os
import pathlib

import pytest

from jupyter_tinyai import cli
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.errors import ModelFileError, ModelNotFound
from jupyter_tinyai.models import added as added_module
from jupyter_tinyai.models import list_models, resolve
from jupyter_tinyai.models.added import add_model, added_file, load_added, remove_model


@pytest.fixture
def settings():
    return load_settings(host="inprocess")


def added_specs(settings):
    return [m for m in list_models(settings) if m.source == "added"]


def test_added_gguf_is_listed_and_resolves(settings, tmp_path, make_gguf):
    path = make_gguf(tmp_path / "runs" / "finetune-3.Q4_K_M.gguf", name="finetune")
    spec = add_model(str(path), settings)
    assert spec.id == "llamacpp:finetune-3-Q4_K_M" and spec.format == "gguf"
    assert [m.path for m in added_specs(settings)] == [str(path)]
    assert resolve("finetune-3", settings).path == str(path)
    # persisted under the Jupyter data dir, read again by a new process (a new load)
    assert added_file().startswith(os.environ["JUPYTER_DATA_DIR"])
    with open(added_file(), encoding="utf-8") as handle:
        assert json.load(handle)["models"] == [{"path": str(path)}]


def test_adding_twice_keeps_one_entry_and_remove_forgets(settings, tmp_path, make_gguf):
    path = make_gguf(tmp_path / "m.gguf")
    add_model(str(path), settings)
    add_model(str(tmp_path / "." / "m.gguf"), settings)
    assert len(load_added()) == 1
    assert remove_model(str(path)) is True
    assert remove_model(str(path)) is False
    assert added_specs(settings) == []


def test_added_mlx_folder(settings, tmp_path):
    folder = tmp_path / "my-mlx-model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "quantization": {"bits": 4, "group_size": 64}}))
    (folder / "model.safetensors").write_bytes(b"\0" * 16)
    spec = add_model(str(folder), settings)
    assert (spec.id, spec.backend, spec.quantization) == ("mlx:my-mlx-model", "mlx", "4bit")
    assert [m.id for m in added_specs(settings)] == ["mlx:my-mlx-model"]


def test_a_registered_file_that_was_deleted_is_not_listed(settings, tmp_path, make_gguf):
    path = make_gguf(tmp_path / "gone.gguf")
    add_model(str(path), settings)
    os.remove(path)
    assert added_specs(settings) == []


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d.joinpath("weights.safetensors").write_bytes(b"\0"), "not a format jupyter_tinyai runs"),
        (lambda d: d.joinpath("page.gguf").write_text("<html>not found</html>"), "not a GGUF model file"),
        (lambda d: d.joinpath("empty").mkdir(), "holds no GGUF file"),
    ],
)
def test_unsupported_formats_are_refused_clearly(settings, tmp_path, make, message):
    make(tmp_path)
    target = next(tmp_path.iterdir())
    with pytest.raises(ModelFileError, match=message):
        add_model(str(target), settings)
    assert load_added() == []


def test_adapters_are_refused_with_a_hint(settings, tmp_path, make_gguf):
    adapter = make_gguf(tmp_path / "lora.gguf", metadata={"general.architecture": "llama", "general.type": "adapter"})
    with pytest.raises(ModelFileError, match="LoRA adapter, not a model: use it with --adapter"):
        add_model(adapter, settings)
    folder = tmp_path / "adapters"
    folder.mkdir()
    (folder / "adapter_config.json").write_text("{}")
    (folder / "adapters.safetensors").write_bytes(b"\0")
    with pytest.raises(ModelFileError, match="adapter folder, not a model: use it with --adapter"):
        add_model(str(folder), settings)


def test_missing_path(settings, tmp_path):
    with pytest.raises(ModelNotFound, match="there is no file or folder"):
        add_model(str(tmp_path / "nope.gguf"), settings)


def test_cli_add_then_list(tmp_path, make_gguf, capsys):
    path = make_gguf(tmp_path / "mine.gguf")
    assert cli.main(["models", "--add", str(path)]) == 0
    out = capsys.readouterr().out
    assert "added llamacpp:mine" in out and str(path) in out
    assert cli.main(["models", "--in-process", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert any(m["path"] == str(path) and m["source"] == "added" for m in listed)


def test_cli_add_of_a_bad_file_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    assert cli.main(["models", "--add", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not a GGUF model file" in err and "Traceback" not in err


def test_cli_remove(tmp_path, make_gguf, capsys):
    path = make_gguf(tmp_path / "mine.gguf")
    cli.main(["models", "--add", str(path)])
    assert cli.main(["models", "--remove", str(path)]) == 0
    assert cli.main(["models", "--remove", str(path)]) == 1
    assert load_added() == []


@pytest.mark.parametrize("damage", [b'{"models": [{"path": "/data/run-1/model.gguf"}', b"\xff\xfe not text",
                                    b'["/data/run-1/model.gguf"]'])
def test_a_damaged_list_is_set_aside_not_overwritten(settings, tmp_path, make_gguf, capsys, damage):
    os.makedirs(os.path.dirname(added_file()))
    with open(added_file(), "wb") as handle:
        handle.write(damage)
    # listing says so once, in one line, and goes on
    warnings = [m.warning for m in list_models(settings, include_remote=False) if m.warning]
    (aside,) = [name for name in os.listdir(os.path.dirname(added_file())) if ".damaged-" in name]
    assert len(warnings) == 1 and "set aside as" in warnings[0] and aside in warnings[0] and "\n" not in warnings[0]
    assert pathlib.Path(added_file()).with_name(aside).read_bytes() == damage  # kept as it was
    assert not [m for m in list_models(settings, include_remote=False) if m.warning]  # told once
    # the next --add starts a new list and leaves the damaged one where it is
    path = make_gguf(tmp_path / "new.gguf")
    assert cli.main(["models", "--add", str(path)]) == 0
    assert load_added() == [{"path": str(path)}]
    assert pathlib.Path(added_file()).with_name(aside).read_bytes() == damage


def test_add_after_damage_says_so_in_one_line(tmp_path, make_gguf, capsys):
    os.makedirs(os.path.dirname(added_file()))
    with open(added_file(), "w", encoding="utf-8") as handle:
        handle.write('{"models": [{"path": "/data/run-1/model.gguf"},')  # cut short by a full disk
    path = make_gguf(tmp_path / "new.gguf")
    assert cli.main(["models", "--add", str(path)]) == 0
    out, err = capsys.readouterr()
    (line,) = err.splitlines()
    assert line.startswith("warning: the list of added models was damaged (it is not valid JSON") and ".damaged-" in line
    assert "added llamacpp:new" in out
    assert load_added() == [{"path": str(path)}]


def test_an_unreadable_list_is_not_replaced(settings, tmp_path, make_gguf, monkeypatch):
    os.makedirs(os.path.dirname(added_file()))
    with open(added_file(), "w", encoding="utf-8") as handle:
        json.dump({"models": [{"path": "/data/run-1/model.gguf"}]}, handle)
    new = make_gguf(tmp_path / "new.gguf")

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    with monkeypatch.context() as patch, pytest.raises(ModelFileError, match="cannot be read.*check its permissions"):
        patch.setattr(added_module, "open", refuse, raising=False)  # as for another user's file
        add_model(new, settings)
    assert load_added() == [{"path": "/data/run-1/model.gguf"}]


def test_a_folder_where_the_list_should_be_is_set_aside(settings, tmp_path, make_gguf):
    os.makedirs(added_file())
    notices = []
    add_model(make_gguf(tmp_path / "new.gguf"), settings, notices)
    assert len(notices) == 1 and "it is a folder" in notices[0]
    assert load_added() == [{"path": str(tmp_path / "new.gguf")}]
