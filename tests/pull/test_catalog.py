"""The catalog data, the fit badges and the choice of a file from a repo's listing (no network)."""

import json

import pytest

from jupyter_tinyai.cli import main
from jupyter_tinyai.errors import ModelNotFound, PullError
from jupyter_tinyai.memory import MemoryBudget
from jupyter_tinyai.models import catalog, hub

GB = 1000**3


def test_every_entry_is_complete():
    names = [e.name for e in catalog.entries()]
    assert len(names) == len(set(names)) >= 10
    for e in catalog.entries():
        assert set(e.roles) <= set(catalog.ROLES) and e.roles
        assert e.repo.count("/") == 1 and e.repo.lower().endswith("-gguf")
        assert e.default_quant in e.sizes and e.size() > 100_000_000
        assert e.kv_bytes_per_token() > 0 and e.context >= 8192 and e.license
    for role in catalog.ROLES:
        assert any(role in e.roles for e in catalog.entries())
    # completion entries are the Qwen2.5-Coder family with fill-in-the-middle tokens
    assert {e.name for e in catalog.entries() if "completion" in e.roles} == {
        "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "qwen2.5-coder-3b"}
    assert all(e.fim for e in catalog.entries() if "completion" in e.roles)


def test_lookup_by_name_or_repo():
    assert catalog.get("Qwen2.5-Coder-1.5B").repo == "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF"
    assert catalog.get("qwen/qwen2.5-coder-1.5b-instruct-gguf").name == "qwen2.5-coder-1.5b"
    assert catalog.get("nothing") is None
    assert "qwen2.5-coder-1.5b" in catalog.close_names("qwen2.5-coder-1.5")


def test_kv_cache_is_computed_from_the_attention_shape():
    e = catalog.get("qwen2.5-coder-1.5b")  # 28 layers x 2 KV heads x 128, f16 keys and values
    assert e.kv_bytes_per_token() == 2 * 2 * 28 * 2 * 128
    f = catalog.fit(e.size(), e.kv_bytes_per_token(), 8192, MemoryBudget(16 * GB, 12 * GB))
    assert f.kv_bytes == 28672 * 8192 and not f.kv_estimated
    assert f.need_bytes == e.size() + f.kv_bytes + catalog.OVERHEAD_BYTES


@pytest.mark.parametrize("total,available,badge", [
    (16 * GB, 12 * GB, "fits"),
    (16 * GB, 1 * GB, "tight"),  # would fit the machine, not the free memory now
    (2.5 * GB, 2.4 * GB, "tight"),  # most of what a 2.5 GB machine can give
    (1.5 * GB, 1.5 * GB, "too large"),
])
def test_badges(total, available, badge):
    f = catalog.fit(1 * GB, 28672, 8192, MemoryBudget(int(total), int(available)))
    assert f.badge == badge
    assert "needs 1.4 GB (1.0 GB weights + 234.9 MB for 8192 tokens of context)" in f.describe()


def test_apple_gpu_working_set_is_the_limit():
    budget = MemoryBudget(16 * GB, 15 * GB, gpu_working_set_bytes=2 * GB)
    assert catalog.fit(2 * GB, 28672, 8192, budget).badge == "too large"
    assert budget.usable_bytes == 2 * GB


def test_unknown_shape_is_estimated():
    f = catalog.fit(2 * GB, 0, 8192, MemoryBudget(16 * GB, 12 * GB))
    assert f.kv_estimated and f.kv_bytes == int(2 * GB * catalog.UNKNOWN_KV_SHARE)
    assert "~" in f.describe()


def test_recommend_picks_the_best_that_fits_per_role(load):
    small = MemoryBudget(4 * GB, 3 * GB)
    offers = catalog.recommend(load, small)
    best = {role: catalog.best(offers, role).entry.name for role in catalog.ROLES}
    for role, name in best.items():
        offer = next(o for o in offers if o.entry.name == name)
        assert offer.fit.badge == "fits" and role in offer.best_for
        # nothing earlier (better) in the same role fits
        earlier = [o for o in offers if role in o.entry.roles][: [o.entry.name for o in offers if role in o.entry.roles].index(name)]
        assert all(o.fit.badge != "fits" for o in earlier)
    big = {role: catalog.best(catalog.recommend(load, MemoryBudget(64 * GB, 60 * GB)), role).entry.name
           for role in catalog.ROLES}
    assert big == {"chat": "qwen3-4b-instruct", "code": "qwen2.5-coder-7b", "completion": "qwen2.5-coder-3b"}
    assert catalog.best(catalog.recommend(load, MemoryBudget(GB // 2, GB // 4)), "chat") is None


@pytest.fixture
def load():
    from jupyter_tinyai.config import load_settings

    return load_settings()


def test_models_recommend_cli(capsys, monkeypatch):
    import jupyter_tinyai.memory as memory

    monkeypatch.setattr(memory, "memory_budget", lambda: MemoryBudget(8 * GB, 6 * GB))
    assert main(["models", "--recommend"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("This machine: 8.0 GB of memory, 6.0 GB free.")
    assert "\nchat:\n" in out and "\ncode:\n" in out and "\ncompletion:\n" in out
    assert "qwen2.5-coder-7b" in out and "  chat       jupyter tinyai pull " in out
    assert main(["models", "--recommend", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["machine"]["total_bytes"] == 8 * GB and data["n_ctx"] == 8192
    assert set(data["best"]) == {"chat", "code", "completion"}
    fits = {m["name"]: m["fit"]["badge"] for m in data["models"]}
    assert fits[data["best"]["chat"]] == "fits"
    assert all(m["pull"] == f"jupyter tinyai pull {m['name']}" for m in data["models"])


def test_recommend_and_load_ext_do_not_import_huggingface_hub():
    import subprocess
    import sys

    code = ("import sys, jupyter_tinyai.cli as c; c.main(['models', '--recommend']); "
            "from IPython.core.interactiveshell import InteractiveShell; "
            "ip = InteractiveShell.instance(); ip.run_line_magic('load_ext', 'jupyter_tinyai'); "
            "print('huggingface_hub' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


# --- choosing a file from a listing -------------------------------------------------------------

LISTING = [
    "README.md", "mmproj-F16.gguf", "model-Q8_0.gguf", "model-Q4_K_M.gguf", "model-UD-Q4_K_XL.gguf",
    "model-Q2_K.gguf", "model-F16-00001-of-00002.gguf", "model-F16-00002-of-00002.gguf",
]


def test_quant_of_names():
    assert hub.quant_of("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf") == "Q4_K_M"
    assert hub.quant_of("Qwen3-4B-Instruct-2507-UD-Q4_K_XL.gguf") == "Q4_K_XL"
    assert hub.quant_of("SmolLM2-135M-Instruct.Q4_1.gguf") == "Q4_1"
    assert hub.quant_of("gemma-3-1b-it-BF16.gguf") == "BF16"
    assert hub.quant_of("model.gguf") == ""


def test_choose_default_quant_first_then_smaller_and_larger():
    picked = hub.choose(LISTING)
    assert picked[0] == "model-Q4_K_M.gguf"
    assert "mmproj-F16.gguf" not in picked and not any("-of-" in n for n in picked)
    assert set(picked) == {"model-Q4_K_M.gguf", "model-Q8_0.gguf", "model-Q2_K.gguf", "model-UD-Q4_K_XL.gguf"}
    assert hub.choose(LISTING, preferred=("Q8_0",))[0] == "model-Q8_0.gguf"


def test_choose_named_quant_and_its_errors():
    assert hub.choose(LISTING, "q8_0") == ["model-Q8_0.gguf"]
    with pytest.raises(ModelNotFound, match=r"there is no Q5_K_M file: choose one of .*Q2_K.*Q4_K_M.*Q8_0 with --quant"):
        hub.choose(LISTING, "Q5_K_M")
    with pytest.raises(PullError, match="split into parts"):
        hub.choose(LISTING, "F16")
    with pytest.raises(PullError, match="no GGUF file"):
        hub.choose(["README.md", "model.safetensors"])
    assert hub.choose(["README.md", "custom.gguf"]) == ["custom.gguf"]


def test_parse_names():
    entry, repo, file, quant = hub.parse_name("qwen2.5-coder-1.5b")
    assert entry.name == "qwen2.5-coder-1.5b" and repo == "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF" and file is None
    assert hub.parse_name("org/Repo-GGUF:Q8_0")[1:] == ("org/Repo-GGUF", None, "Q8_0")
    assert hub.parse_name("org/Repo-GGUF/sub/x.gguf")[1:] == ("org/Repo-GGUF", "sub/x.gguf", None)
    assert hub.parse_name("https://huggingface.co/org/R/resolve/main/x.gguf")[1:] == ("org/R", "x.gguf", None)
    with pytest.raises(ModelNotFound, match=r"Did you mean: qwen2.5-coder-1.5b"):
        hub.parse_name("qwen2.5-coder-1.5")


def test_on_apple_silicon_with_mlx_the_mlx_build_is_offered(monkeypatch, capsys, load):
    monkeypatch.setattr(catalog, "prefer_mlx", lambda settings=None: True)
    offers = catalog.recommend(load, MemoryBudget(16 * GB, 12 * GB, gpu_working_set_bytes=10 * GB))
    coder = next(o for o in offers if o.entry.name == "qwen2.5-coder-1.5b")
    assert coder.format == "mlx" and coder.repo == "mlx-community/Qwen2.5-Coder-1.5B-Instruct-4bit"
    assert coder.to_dict()["repo"] == coder.repo and coder.quant == "4bit"
    import jupyter_tinyai.memory as memory

    monkeypatch.setattr(memory, "memory_budget", lambda: MemoryBudget(16 * GB, 12 * GB, gpu_working_set_bytes=10 * GB))
    assert main(["models", "--recommend"]) == 0
    out = capsys.readouterr().out
    assert ", GPU working set 10.0 GB." in out.splitlines()[0]
    assert "MLX 4bit" in out
