"""The tiny-model hint: while only the bundled model is present, name the catalog model to pull."""

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.memory import MemoryBudget
from jupyter_tinyai.models import catalog, list_models
from jupyter_tinyai.models.hint import hint_line, tiny_model_hint

GB = 1024**3


def test_only_the_bundled_model_gives_the_best_fitting_chat_model(model_path):
    settings = load_settings(host="inprocess")
    budget = MemoryBudget(16 * GB, 12 * GB)
    hint = tiny_model_hint(settings, budget=budget)
    best = catalog.best(catalog.recommend(settings, budget), "chat")
    assert hint["command"] == f"jupyter tinyai pull {best.entry.name}"
    assert "tiny model for trying things out" in hint["text"] and best.entry.title in hint["text"]
    assert "\n" not in hint_line(hint)
    # a smaller machine gets a smaller model
    small = tiny_model_hint(settings, budget=MemoryBudget(4 * GB, 3 * GB))
    assert small["command"] != hint["command"]
    assert small["command"] == catalog.best(catalog.recommend(settings, MemoryBudget(4 * GB, 3 * GB)), "chat").pull_command


def test_no_catalog_model_fits_points_at_the_catalog(model_path):
    hint = tiny_model_hint(load_settings(host="inprocess"), budget=MemoryBudget(GB // 2, GB // 4))
    assert hint["command"] == "jupyter tinyai models --recommend"


def test_no_hint_once_another_model_is_present(tmp_path, make_gguf, model_path):
    path = make_gguf(tmp_path / "pulled.Q4_K_M.gguf", name="pulled")
    settings = load_settings(host="inprocess", models=[str(path)])
    assert tiny_model_hint(settings, budget=MemoryBudget(16 * GB, 12 * GB)) is None


def test_no_hint_for_an_answer_of_another_model_or_with_a_remote(model_path):
    settings = load_settings(host="inprocess")
    budget = MemoryBudget(16 * GB, 12 * GB)
    bundled = list_models(settings)[0]
    assert tiny_model_hint(settings, answered_by=bundled.id, budget=budget) is not None
    assert tiny_model_hint(settings, answered_by="llamacpp:something-else", budget=budget) is None
    remote = load_settings(host="inprocess", remotes={"lab": {"url": "http://127.0.0.1:9"}})
    assert tiny_model_hint(remote, budget=budget) is None
