"""One model state: a model picked in one notebook (``%tinyai use``) is the model of the
other notebooks' next answers too, without them asking (they follow the host's pushed
model state), and ``%tinyai status`` there names it."""

from __future__ import annotations

import shutil
import time

import pytest

from .conftest import start_kernel, stop_kernel

pytestmark = [pytest.mark.model, pytest.mark.timeout(600)]

SESSION = "get_ipython().magics_manager.registry['TinyAIMagics'].session"


def wait_for_value(kernel, expression, wanted, timeout=120):
    deadline = time.monotonic() + timeout
    while (value := kernel.value(expression)) != wanted:
        assert time.monotonic() < deadline, f"{expression} stayed {value!r}, not {wanted!r}"
        time.sleep(0.2)


def test_a_pick_in_one_notebook_is_the_model_of_the_others(tmp_path, model_path):
    home = tmp_path / "home"
    first, second = start_kernel(home, inprocess=False), start_kernel(home, inprocess=False)
    other = tmp_path / "other-model.gguf"
    shutil.copyfile(model_path, other)  # a model of its own (a link would be listed as the bundled one)
    try:
        cell = second.run("%ask --max-tokens 4 Hello")  # the bundled default; starts the host
        assert cell.status == "ok", cell.errors
        assert cell.final_answer()["metadata"]["jupyter_tinyai"]["model"].endswith("SmolLM2-135M-Instruct-Q4_1")
        cell = first.run(f"%tinyai use {other}")
        assert cell.status == "ok" and "using llamacpp:other-model" in cell.stdout, cell.errors
        wait_for_value(second, f"{SESSION}.chosen_id()", "llamacpp:other-model")
        cell = second.run("%ask --max-tokens 4 Hello")
        assert cell.status == "ok" and not cell.errors, (cell.reply["content"], cell.stdout)
        assert cell.final_answer()["metadata"]["jupyter_tinyai"]["model"] == "llamacpp:other-model"
    finally:
        first.run(f"{SESSION}.client.shutdown()")
        stop_kernel(first)
        stop_kernel(second)
