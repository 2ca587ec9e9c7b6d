"""autoexplain's "Explain this error" opens a panel designed like the labextension's inline
explanation: a title, "Thinking…" first, Stop while it streams, the figures line; an answer
the token limit cut ends at a sentence, with Continue (which continues it); Dismiss removes
the panel and brings the button back."""

from __future__ import annotations

import time

import pytest

from jupyter_tinyai.magics.explainpanel import THINKING, to_sentence_end

S = "get_ipython().magics_manager.registry['TinyAIMagics'].session"
E = f"{S}.explanation"


def test_a_cut_answer_ends_at_its_last_sentence():
    assert to_sentence_end("The list has two items. Index 5 is past the end, so Pyth") == \
        ["The list has two items.", " 5 is past the end, so Pyth"][0]
    assert to_sentence_end("Use `numbers[1]`. Or check") == "Use `numbers[1]`."
    assert to_sentence_end("First part\n\nsecond part cut") == "First part"
    assert to_sentence_end("no sentence at all") == "no sentence at all"
    assert to_sentence_end("Fix it:\n```python\nx = 1\ny") == "Fix it:"
    assert to_sentence_end("Like this.\n```python\nx = [1, 2]\nprint(x[1])\n\nmore").endswith("```")


def wait_for(kernel, expression, timeout=300):
    deadline = time.monotonic() + timeout
    while not kernel.value(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.2)


@pytest.mark.model
@pytest.mark.timeout(600)
def test_explain_this_error_opens_a_panel_with_stop_continue_and_dismiss(kernel):
    kernel.run("%ask --max-tokens 2 Hi")  # the model loaded first: its loading logs do not mix with the checks' output
    kernel.run("%tinyai autoexplain on")
    kernel.run(f"{S}.max_tokens = 24")  # small enough to cut the explanation
    try:
        failed = kernel.run("numbers = [1, 2]\nnumbers[5]")
        (button,) = [m for m in failed.of_type("comm_open")
                     if m["content"]["data"]["state"].get("description") == "Explain this error"]
        seen = []
        kernel.click(button["content"]["comm_id"])
        seen += kernel.wait_for(lambda m: m["msg_type"] == "comm_open"
                                and m["content"]["data"]["state"].get("value") == "<b>Explanation of this error</b>")
        seen += kernel.wait_for(lambda m: THINKING in str(m["content"].get("data", {}).get("state", {}).get("outputs", "")))
        wait_for(kernel, f"{E} is not None")
        stops = [m for m in seen if m["msg_type"] == "comm_open" and m["content"]["data"]["state"].get("description") == "Stop"]
        assert stops  # a Stop button in the header
        assert kernel.value(f"{E}.stop.layout.display") is None  # Stop while it streams
        assert kernel.value(f"{E}.offer.disabled") is True  # one explanation at a time
        wait_for(kernel, f"not {E}._busy.locked()")  # ended
        assert kernel.value(f"{E}.stop.layout.display") == "none"
        assert "tokens/s" in kernel.value(f"{E}.footer.value"), kernel.value(f"{E}.body.outputs")
        assert kernel.value(f"{E}.cut") is True and "Continue for more" in kernel.value(f"{E}.footer.value")
        shown = kernel.value(f"{E}.body.outputs[0]['data']['text/plain']")
        assert shown == kernel.value(f"__import__('jupyter_tinyai.magics.explainpanel').magics.explainpanel"
                                     f".to_sentence_end({E}.text)")
        assert kernel.value(f"{E}.more.layout.display") is None  # Continue offered
        before = kernel.value(f"len({E}.text)")
        kernel.click(kernel.value(f"{E}.more.model_id"))
        wait_for(kernel, f"len({E}.text) > {before} and not {E}._busy.locked()")
        kernel.click(kernel.value(f"{E}.dismiss.model_id"))
        wait_for(kernel, f"{E}.box.comm is None")  # the panel is gone
        assert kernel.value(f"{E}.offer.disabled") is False  # the button is back
    finally:
        kernel.run(f"{S}.max_tokens = None")
        kernel.run("%tinyai autoexplain off")


@pytest.mark.model
@pytest.mark.timeout(600)
def test_explain_output_has_the_header_thinking_first_and_never_ends_mid_sentence(kernel):
    cell = kernel.run("%%explain --max-tokens 60\nsquares = [i ** 2 for i in range(10) if i % 3]")
    assert cell.status == "ok", cell.errors
    first = next(m for m in cell.of_type("display_data") if "text/markdown" in m["content"]["data"])
    assert first["content"]["data"]["text/markdown"].startswith("**Explanation of this code**\n\n_Thinking…_")
    final = cell.final_answer()
    assert final["data"]["text/markdown"].startswith("**Explanation of this code**")
    meta = final["metadata"]["jupyter_tinyai"]
    assert meta["finish_reason"] == "length"  # cut by the limit…
    answer = final["data"]["text/plain"].rsplit("\n\n", 1)[0]  # (without the figures line)
    assert answer == to_sentence_end(answer) and answer.rstrip("`\n")[-1] in ".!?:)\"'*_"  # …at a sentence's end
    titled = kernel.run("numbers = [1, 2]\nnumbers[5]\n")
    assert titled.status == "error"
    cell = kernel.run("%explain --error --max-tokens 8")
    assert cell.final_answer()["data"]["text/markdown"].startswith("**Explanation of this error**")
