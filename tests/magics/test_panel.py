"""The %tinyai panel: labels in full, one status line that does not wrap, max tokens, a
box for the catalog, and it follows the model state: a pick elsewhere moves its picker and
status line; a pick in it loads the model for every front end."""

from __future__ import annotations

import shutil
import time

import pytest

from .conftest import start_kernel, stop_kernel

pytestmark = [pytest.mark.model, pytest.mark.timeout(600)]

SESSION = "get_ipython().magics_manager.registry['TinyAIMagics'].session"
PANEL = f"{SESSION}.panel"
BUNDLED = "llamacpp:SmolLM2-135M-Instruct-Q4_1"


def wait_for(kernel, expression, timeout=120):
    deadline = time.monotonic() + timeout
    while not kernel.value(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.2)


@pytest.fixture
def kernel(tmp_path):
    kernel = start_kernel(tmp_path / "home")
    yield kernel
    stop_kernel(kernel)


def test_the_panel_lays_out_in_full_and_follows_the_model_state(kernel, tmp_path, model_path):
    cell = kernel.run("%tinyai")
    assert cell.status == "ok", cell.errors
    states = {m["content"]["comm_id"]: m["content"]["data"]["state"] for m in cell.of_type("comm_open")}
    described = {s.get("description"): s for s in states.values() if s.get("description")}
    assert {"Model", "Temperature", "Max tokens"} <= set(described)
    for name in ("Model", "Temperature", "Max tokens"):  # the labels are wide enough: no "Temperat…"
        style = states[described[name]["style"].removeprefix("IPY_MODEL_")]
        assert style["description_width"] == "6.5em"
    assert kernel.value(f"{PANEL}.picker.options") and kernel.value(f"type({PANEL}.catalog).__name__") == "VBox"
    status = kernel.value(f"{PANEL}.status.value")
    assert "white-space:nowrap" in status and "text-overflow:ellipsis" in status

    kernel.run(f"{PANEL}.max_tokens.value = 5")
    answer = kernel.run("%ask Hello")
    assert answer.final_answer()["metadata"]["jupyter_tinyai"]["params"]["max_tokens"] == 5
    wait_for(kernel, f"'tokens/s' in {PANEL}.status.value")  # the answer's speed, pushed

    other = tmp_path / "other-model.gguf"
    shutil.copyfile(model_path, other)
    assert kernel.run(f"%tinyai use {other}").status == "ok"  # a pick elsewhere (here: the magic)
    wait_for(kernel, f"{PANEL}.picker.value == 'llamacpp:other-model'")
    wait_for(kernel, f"'other-model · CPU' in {PANEL}.status.value")

    kernel.run(f"{PANEL}.picker.value = {BUNDLED!r}")  # a pick in the panel loads it for everyone
    wait_for(kernel, f"{SESSION}.client.status()['model']['id'] == {BUNDLED!r}")
    wait_for(kernel, f"'SmolLM2-135M-Instruct-Q4_1 · CPU' in {PANEL}.status.value")
    assert kernel.value(f"{SESSION}.chosen_id()") == BUNDLED


def test_a_pick_the_host_refuses_is_said_on_the_panels_status_line(tmp_path):
    kernel = start_kernel(tmp_path / "host-home", inprocess=False)  # the host refuses it before loading
    try:
        assert kernel.run("%tinyai").status == "ok"
        _pick_a_broken_file(kernel, tmp_path)
    finally:
        kernel.run(f"{SESSION}.client.shutdown()")
        stop_kernel(kernel)


def _pick_a_broken_file(kernel, tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    kernel.run(f"{PANEL}._on_pick({{'new': {str(bad)!r}}})")  # what picking it does
    wait_for(kernel, f"'Could not load' in {PANEL}.status.value and 'broken.gguf' in {PANEL}.status.value")
