"""The magics in a real kernel with the real bundled model (greedy decoding)."""

from __future__ import annotations

import ast
import re

import pytest

pytestmark = pytest.mark.model

HEAVY = ("llama_cpp", "numpy", "pandas", "ipywidgets")


def test_load_ext_is_light_and_twice_is_harmless(new_kernel, capsys, record_property):
    """%load_ext imports no model, array or widget library; its time is reported, not asserted."""
    kernel = new_kernel(inprocess=False, load=False)
    cell = kernel.run(
        "import sys, time\n"
        "before = set(sys.modules)\n"
        "t = time.perf_counter()\n"
        "get_ipython().run_line_magic('load_ext', 'jupyter_tinyai')\n"
        "ms = (time.perf_counter() - t) * 1000\n"
        f"new = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in {HEAVY!r})\n"
        "print(repr((ms, new)))"
    )
    assert cell.status == "ok", cell.errors
    ms, new = ast.literal_eval(cell.stdout.strip())
    assert new == []
    record_property("load_ext_ms", ms)
    with capsys.disabled():
        print(f"\n[magics] %load_ext jupyter_tinyai took {ms:.0f} ms in the kernel")
    for again in ("%load_ext jupyter_tinyai", "%reload_ext jupyter_tinyai"):
        cell = kernel.run(again)
        assert cell.status == "ok", cell.errors
    for magic in ("%%ask?", "%explain?", "%tinyai?"):
        cell = kernel.run(magic)
        page = "".join(p["data"]["text/plain"] for p in cell.reply["content"]["payload"] if p.get("source") == "page")
        assert "Examples" in page or "Subcommands" in page, page[:300]
    assert "--max-tokens" in page or "autoexplain" in page


def _session(kernel, attribute: str):
    return kernel.value(f"get_ipython().magics_manager.registry['TinyAIMagics'].session.{attribute}")


def test_ask_streams_into_one_display_with_footer_and_metadata(kernel):
    cell = kernel.run("%%ask --max-tokens 24\nWhat is the capital of France?")
    assert cell.status == "ok", cell.errors
    updates = cell.answer_updates()
    texts = [u["data"]["text/markdown"] for u in updates]
    assert len(updates) >= 3, texts  # streamed: several updates of the same display
    assert texts[0] != texts[-1]
    final = cell.final_answer()
    meta = final["metadata"]["jupyter_tinyai"]
    assert meta["model"].startswith("llamacpp:SmolLM2-135M")
    assert meta["backend"] == "llamacpp"
    assert meta["quantization"]
    assert meta["params"]["temperature"] == 0.0 and meta["params"]["max_tokens"] == 24
    assert 0 < meta["generated_tokens"] <= 24 and meta["prompt_tokens"] > 0
    assert meta["ttft_s"] > 0 and meta["tokens_per_s"] > 0
    assert meta["placement"].startswith("CPU, ") and meta["placement"].endswith(("thread", "threads"))
    assert "Paris" in final["data"]["text/markdown"]
    assert f"{meta['generated_tokens']} tokens" in final["data"]["text/markdown"]  # the footer
    assert not cell.errors


def test_successive_cells_form_one_conversation_and_new_starts_another(kernel):
    first = _session(kernel, "conversation")
    cell = kernel.run("%ask --max-tokens 4 And of Italy?")
    assert cell.status == "ok", cell.errors
    assert _session(kernel, "conversation") == first
    history = kernel.run("%tinyai history").stdout
    assert "capital of France" in history and "And of Italy?" in history
    cell = kernel.run("%ask --new --max-tokens 4 Hello")
    assert cell.status == "ok", cell.errors
    assert _session(kernel, "conversation") != first
    assert "capital of France" not in kernel.run("%tinyai history").stdout


def test_dataframe_reference_sends_a_summary(kernel):
    kernel.run(
        "import pandas as pd, numpy as np\n"
        "sales = pd.DataFrame({'price': np.arange(5000) * 1.5, 'city': ['Oslo', 'Rome'] * 2500})"
    )
    cell = kernel.run("%%ask --new --max-tokens 4\nWhich columns does {sales} have?")
    assert cell.status == "ok", cell.errors
    sent = kernel.run("%tinyai history").stdout
    assert "sales (pandas DataFrame)" in sent
    assert "5000 rows × 2 columns" in sent and "price: float64" in sent
    assert "Which columns does `sales` have?" in sent
    assert "7498.5" not in sent  # the last row: a summary, not a dump


def test_in_and_err_references(kernel):
    code = "values = [1, 2, 3]\nvalues[10]"
    failed = kernel.run(code)
    assert failed.status == "error"
    count = failed.reply["content"]["execution_count"]
    cell = kernel.run(f"%%ask --new --max-tokens 4\nWhy does {{In[{count}]}} fail? {{Err}}")
    assert cell.status == "ok", cell.errors
    sent = kernel.run("%tinyai history").stdout
    assert f"In[{count}] (code of cell {count})" in sent
    assert "IndexError: list index out of range" in sent
    assert "values[10]" in sent


def test_explain_a_function_sends_its_source(kernel):
    kernel.run("def area(radius):\n    return 3.14159 * radius ** 2")
    cell = kernel.run("%explain area --max-tokens 12")
    assert cell.status == "ok", cell.errors
    assert cell.final_answer()["metadata"]["jupyter_tinyai"]["generated_tokens"] > 0
    prompt = _session(kernel, "last_prompt")
    assert "def area(radius):" in prompt and "3.14159" in prompt


def test_explain_the_previous_cell(kernel):
    kernel.run("total = sum(n * n for n in range(10))")
    cell = kernel.run("%explain --max-tokens 4")
    assert cell.status == "ok", cell.errors
    assert "total = sum(n * n for n in range(10))" in _session(kernel, "last_prompt")


def test_with_autoawait_off_the_magics_still_stream(kernel):
    kernel.run("%autoawait off")
    try:
        cell = kernel.run("%%ask --new --max-tokens 8\nWhat is the capital of France?")
        assert cell.status == "ok", cell.errors
        assert len(cell.answer_updates()) >= 2
        assert cell.final_answer()["metadata"]["jupyter_tinyai"]["generated_tokens"] > 0
    finally:
        kernel.run("%autoawait on")


def test_explain_error_and_cell_body(kernel):
    kernel.run("{}['missing']")
    cell = kernel.run("%explain --error --max-tokens 4")
    assert cell.status == "ok", cell.errors
    assert "KeyError" in _session(kernel, "last_prompt")
    cell = kernel.run("%%explain --max-tokens 4\nnever_defined_name_xyz()")
    assert cell.status == "ok", cell.errors  # explained, not run
    assert "never_defined_name_xyz()" in _session(kernel, "last_prompt")


@pytest.mark.parametrize(
    "code, shown",  # the title of the error's kind (errors.TITLES), then its message
    [
        ("%ask -m no-such-model-anywhere hello", "The model was not found: no model named"),
        ("%ask what is {not_defined_anywhere}?", "Not found in the kernel: "),
        ("%ask --bogus hello", "Usage error: unknown option --bogus"),
        ("%tinyai frobnicate", "Usage error: unknown subcommand"),
    ],
)
def test_errors_render_as_one_message(kernel, code, shown):
    cell = kernel.run(code)
    assert cell.status == "error"
    (error,) = cell.errors
    assert len(error["traceback"]) == 1, error["traceback"]
    line = re.sub(r"\x1b\[\d+m", "", error["traceback"][0])
    assert line.startswith(shown) and "Traceback" not in line and "\n" not in line.strip()
    assert not cell.of_type("stream")


def test_stop_button_ends_the_answer_and_the_next_ask_works(kernel):
    on_message = kernel.stop_clicker()

    cell = kernel.run("%%ask --new --max-tokens 400\nWrite a long story about a dragon who learns to bake.", on_message)
    assert on_message.clicked, "no Stop button was shown while streaming"
    assert cell.status == "ok", cell.errors
    final = cell.final_answer()
    meta = final["metadata"]["jupyter_tinyai"]
    assert meta["stopped"] is True and meta["finish_reason"] == "cancelled"
    assert 0 < meta["generated_tokens"] < 400
    assert "stopped" in final["data"]["text/markdown"]
    # the button is removed from the output when the answer ends
    assert any(m["content"]["data"] == {"text/plain": ""} for m in cell.of_type("update_display_data"))
    again = kernel.run("%ask --max-tokens 6 What is 2 + 2?")
    assert again.status == "ok", again.errors
    assert again.final_answer()["metadata"]["jupyter_tinyai"]["finish_reason"] in ("stop", "length")


def test_interrupt_keeps_the_partial_answer_and_the_next_ask_works(kernel):
    state = {"updates": 0, "interrupted": False}

    def on_message(msg):
        if msg["msg_type"] == "update_display_data" and "text/markdown" in msg["content"]["data"]:
            state["updates"] += 1
            if state["updates"] == 2 and not state["interrupted"]:
                kernel.km.interrupt_kernel()
                state["interrupted"] = True

    cell = kernel.run("%%ask --new --max-tokens 400\nWrite a long poem about the sea.", on_message)
    assert state["interrupted"]
    assert cell.status == "error"  # so that "Run All" stops here
    (error,) = cell.errors
    assert len(error["traceback"]) == 1 and "interrupted" in error["traceback"][0]
    final = cell.final_answer()
    meta = final["metadata"]["jupyter_tinyai"]
    assert meta["stopped"] is True and 0 < meta["generated_tokens"] < 400
    assert final["data"]["text/markdown"].strip()
    again = kernel.run("%ask --max-tokens 6 What is 3 + 3?")
    assert again.status == "ok", again.errors
    assert again.final_answer()["metadata"]["jupyter_tinyai"]["generated_tokens"] > 0


def test_code_format_offers_the_next_cell_and_runs_nothing(kernel):
    cell = kernel.run("%%ask -f code --new --max-tokens 60\nWrite a Python function add(a, b) that returns a + b.")
    assert cell.status == "ok", cell.errors
    (payload,) = [p for p in cell.reply["content"]["payload"] if p["source"] == "set_next_input"]
    assert "def add" in payload["text"] and "```" not in payload["text"] and payload["replace"] is False
    assert cell.final_answer()["data"]["text/markdown"].startswith("```python\n")
    assert kernel.value("'add' in globals()") is False


def test_cells_queued_behind_a_streaming_answer_run_after_it(kernel):
    """Run All sends every cell at once: the next cell waits for the answer (async cell or not)."""
    first = kernel.kc.execute("%%ask --new --max-tokens 12\nName three rivers.")
    second = kernel.kc.execute("print('second cell ran')")
    order = []
    kernel.wait_for(
        lambda m: (m["msg_type"] in ("update_display_data", "stream") and order.append(m["parent_header"]["msg_id"]))
        or (m["parent_header"].get("msg_id") == second and m["msg_type"] == "status" and m["content"]["execution_state"] == "idle")
    )
    assert order and order[-1] == second and set(order[:-1]) == {first}


def test_tinyai_subcommands(kernel):
    assert "SmolLM2-135M-Instruct" in kernel.run("%tinyai models").stdout
    status = kernel.run("%tinyai status").stdout
    assert "model:    llamacpp:SmolLM2-135M" in status and "last:     llamacpp:SmolLM2-135M" in status
    assert "backend:  llamacpp · CPU, " in status and "conversation: " in status
    assert "TinyAI.host = 'inprocess'" in kernel.run("%tinyai config").stdout
    assert "forgotten" in kernel.run("%tinyai reset").stdout


def test_autoexplain_button_streams_an_explanation_under_the_traceback(kernel):
    assert "autoexplain is on" in kernel.run("%tinyai autoexplain on").stdout
    failed = kernel.run("numbers = [1, 2]\nnumbers[5]")
    assert failed.status == "error"
    (button,) = [m for m in failed.of_type("comm_open") if m["content"]["data"]["state"].get("description") == "Explain this error"]
    kernel.click(button["content"]["comm_id"])
    updates = kernel.wait_for(
        lambda m: m["msg_type"] == "comm_msg" and "tokens/s" in str(m["content"]["data"].get("state", {}).get("value", ""))
    )
    outputs = [
        m["content"]["data"]["state"]["outputs"]
        for m in updates
        if m["msg_type"] == "comm_msg" and m["content"]["data"].get("state", {}).get("outputs")
    ]
    assert len(outputs) >= 2  # streamed
    assert outputs[-1][0]["data"]["text/markdown"].strip()
    footers = [m["content"]["data"]["state"]["value"] for m in updates
               if m["msg_type"] == "comm_msg" and "tokens/s" in str(m["content"]["data"].get("state", {}).get("value", ""))]
    assert "llamacpp:SmolLM2-135M" in footers[-1]  # the figures line
    kernel.run("%tinyai autoexplain off")
    assert not kernel.run("1 / 0").of_type("comm_open")


def test_panel_sets_model_and_temperature(kernel):
    panel = kernel.run("%tinyai")
    assert panel.status == "ok", panel.errors
    opened = {m["content"]["data"]["state"].get("description"): m["content"]["comm_id"] for m in panel.of_type("comm_open")}
    assert {"Model", "Temperature", "Max tokens"} <= set(opened)
    kernel.send_comm(opened["Temperature"], {"method": "update", "state": {"value": 0.5}, "buffer_paths": []})
    assert kernel.value("get_ipython().magics_manager.registry['TinyAIMagics'].session.temperature") == 0.5
    cell = kernel.run("%ask --max-tokens 4 --seed 3 Hello")
    meta = cell.final_answer()["metadata"]["jupyter_tinyai"]
    assert meta["params"]["temperature"] == 0.5 and meta["seed"] == 3
    assert "unloaded" in kernel.run("%tinyai unload").stdout


def test_the_first_answer_of_a_kernel_carries_the_tiny_model_hint_once(new_kernel):
    kernel = new_kernel()
    first = kernel.run("%%ask --max-tokens 8\nHi")
    assert first.status == "ok", first.errors
    shown = first.final_answer()["data"]
    assert shown["text/markdown"].count('<sub class="tinyai-hint">') == 1
    assert "tiny model for trying things out" in shown["text/plain"] and "jupyter tinyai pull " in shown["text/plain"]
    second = kernel.run("%%ask --max-tokens 8\nAnd again?")
    assert second.status == "ok", second.errors
    assert "tinyai-hint" not in second.final_answer()["data"]["text/markdown"]
