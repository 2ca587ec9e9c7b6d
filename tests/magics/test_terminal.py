"""The magics without a kernel (the IPython terminal path) and the streaming pump itself."""

from __future__ import annotations

import _thread
import threading

import pytest

from jupyter_tinyai.magics.display import MessageError, TerminalAnswer, code_blocks
from jupyter_tinyai.magics.stream import Generation
from jupyter_tinyai.types import Chunk, Stats


def _shell(client):
    from IPython.testing.globalipapp import get_ipython, start_ipython

    from jupyter_tinyai import api

    ip = start_ipython() or get_ipython()  # one shell per process
    api.set_default_client(client)
    ip.run_line_magic("load_ext", "jupyter_tinyai")
    yield ip
    ip.run_line_magic("unload_ext", "jupyter_tinyai")
    api.set_default_client(None)


@pytest.fixture
def shell(engine):
    """An IPython shell without a kernel, the magics loaded, the session's real engine as client."""
    yield from _shell(engine)


@pytest.fixture
def plain_shell():
    """The same with an engine that loads no model unless asked to answer: for what ends
    before an answer (bad options, an unknown {name}, listing models)."""
    from jupyter_tinyai.config import load_settings
    from jupyter_tinyai.engine import Engine

    yield from _shell(Engine(load_settings(host="inprocess")))


class Recorder:
    """A view that records what it was asked to show."""

    def __init__(self, on_update=None):
        self.calls = []
        self.notice = None
        self.on_update = on_update

    def start(self):
        self.calls.append(("start",))

    def update(self, text):
        self.calls.append(("update", text))
        if self.on_update:
            self.on_update(self)

    def progress(self, fraction, message):
        self.calls.append(("progress", fraction, message))

    def end_progress(self):
        self.calls.append(("end_progress",))

    def kinds(self):
        return [c[0] for c in self.calls]


class SlowLoadClient:
    """A client whose model load takes ``load_s`` seconds (the model is not under test here)."""

    def __init__(self, load_s):
        self.load_s = load_s

    def chat(self, prompt, *, cancel=None, progress=None, **kwargs):
        progress(0.0, "loading slow-model")
        threading.Event().wait(self.load_s)
        progress(1.0, "loaded slow-model")
        yield Chunk(text="Hello")
        yield Chunk(text=" there", stats=Stats(model="slow-model", generated_tokens=2))

    def cancel(self):
        return False


def test_a_slow_load_shows_a_progress_bar_and_a_fast_one_does_not():
    slow = Recorder()
    out = Generation(SlowLoadClient(1.5), "hi", slow).run()
    assert out.text == "Hello there" and out.stats.generated_tokens == 2
    assert "progress" in slow.kinds()
    assert slow.kinds().index("end_progress") < slow.kinds().index("update")
    fast = Recorder()
    Generation(SlowLoadClient(0.0), "hi", fast).run()
    assert "progress" not in fast.kinds()


@pytest.mark.model
def test_terminal_answer_prints_token_by_token_with_a_footer(shell, capsys):
    shell.run_cell("%ask --max-tokens 12 What is the capital of France?")
    printed = capsys.readouterr().out
    assert "Paris" in printed
    assert "[llamacpp:SmolLM2-135M-Instruct-Q4_1 · " in printed and "tokens/s" in printed


@pytest.mark.model
def test_interrupt_in_the_terminal_keeps_the_partial_answer(engine):
    def interrupt_on_second_update(view):
        if view.kinds().count("update") == 2:
            _thread.interrupt_main()

    view = Recorder(interrupt_on_second_update)
    out = Generation(engine, "Write a long story about a dragon.", view, conversation="terminal-interrupt", max_tokens=300).run()
    assert out.interrupted and out.stopped
    assert out.stats.finish_reason == "cancelled" and 0 < out.stats.generated_tokens < 300
    assert out.text.strip()
    _, stats = engine.ask("What is 2 + 2?", conversation="terminal-after", max_tokens=8)
    assert stats.generated_tokens > 0


@pytest.mark.model
def test_code_format_offers_the_code_as_next_input_without_running_it(shell, capsys):
    shell.rl_next_input = None
    shell.run_cell("%%ask -f code --new --max-tokens 80\nWrite a Python function add(a, b) that returns a + b.")
    printed = capsys.readouterr().out
    offered = shell.rl_next_input
    assert offered and offered == code_blocks(printed.split("\n\n[llamacpp")[0])
    assert "def add" in offered and "```" not in offered
    assert "add" not in shell.user_ns  # offered, never executed


def test_user_errors_are_one_line(plain_shell):
    result = plain_shell.run_cell("%ask {surely_not_defined}")
    assert isinstance(result.error_in_exec, MessageError)
    expected = (
        "\x1b[31mNot found in the kernel\x1b[39m: {surely_not_defined}: there is no variable 'surely_not_defined' in the kernel;"
        " define it first, or write {{ and }} for literal braces."
    )
    assert result.error_in_exec._render_traceback_() == [expected]


@pytest.mark.parametrize("options, message", [
    ("-t nan", "argument -t/--temperature: 'temperature' must be a number from 0 to 2, not nan."),
    ("--temperature=-1", "argument -t/--temperature: 'temperature' must be a number from 0 to 2, not -1.0."),
    ("--max-tokens -5", "argument --max-tokens: 'max_tokens' must be a whole number from 1 to 1,000,000, not -5."),
    ("--seed 1.5", "argument --seed: '1.5' is not a number."),
])
def test_out_of_range_options_are_one_line_usage_errors(plain_shell, options, message):
    result = plain_shell.run_cell(f"%ask {options} Name a cat.")
    assert isinstance(result.error_in_exec, MessageError)
    (line,) = result.error_in_exec._render_traceback_()
    assert line.startswith("\x1b[31mUsage error\x1b[39m: ") and line.endswith(message)


def test_code_blocks_and_question_marks(plain_shell):
    from jupyter_tinyai.magics.asynccell import keep_question_marks, transform

    assert code_blocks("Here:\n```python\nx = 1\n```\nand\n```\ny = 2\n```") == "x = 1\n\ny = 2"
    assert code_blocks("def f():\n    return 1\n```") == "def f():\n    return 1"  # opening fence dropped
    assert keep_question_marks(["%ask What is it?\n"]) == ["get_ipython().run_line_magic('ask', 'What is it?')\n"]
    assert keep_question_marks(["%ask?\n"]) == ["%ask?\n"]
    assert transform(["get_ipython().run_cell_magic('ask', '-t 0', 'hi\\n')\n"])[0].startswith("await ")
    assert transform(["x = get_ipython().run_line_magic('ask', 'hi')\n"]) == ["x = get_ipython().run_line_magic('ask', 'hi')\n"]
    plain_shell.autoawait = False  # `%autoawait off`: top-level await would be a SyntaxError
    try:
        assert transform(["get_ipython().run_line_magic('ask', 'hi')\n"]) == ["get_ipython().run_line_magic('ask', 'hi')\n"]
    finally:
        plain_shell.autoawait = True


def test_terminal_view_prints_deltas(capsys):
    view = TerminalAnswer()
    view.update("Hel")
    view.update("Hello")
    view.finish("Hello!", "model · 2 tokens", {})
    assert capsys.readouterr().out == "Hello!\n\n[model · 2 tokens]\n"


class NoticeClient:
    """A client whose answer had to be trimmed to fit (the engine's notice chunk comes first)."""

    def chat(self, prompt, *, cancel=None, progress=None, **kwargs):
        yield Chunk(notice="To fit the 512-token context window, this answer left out 2 earlier turns.")
        yield Chunk(text="Short answer.", stats=Stats(model="m", generated_tokens=3))

    def cancel(self):
        return False


def test_trim_notice_is_shown_apart_from_the_answer_and_kept_in_metadata():
    from jupyter_tinyai.magics.display import NotebookAnswer, metadata

    view = NotebookAnswer()
    generation = Generation(NoticeClient(), "hi", Recorder())
    generation.view = view
    view.start = lambda: None
    view.update = lambda text: None
    out = generation.run()
    assert out.text == "Short answer." and out.notice.startswith("To fit the 512-token")
    bundle = view._bundle(out.text, "m · 3 tokens")
    assert bundle["text/markdown"].startswith("> To fit the 512-token context window")
    assert "Short answer." in bundle["text/markdown"]
    meta = metadata(out.stats, None, {"seed": -1}, "c", out.notice, out.stopped)["jupyter_tinyai"]
    assert meta["notice"] == out.notice and meta["generated_tokens"] == 3


@pytest.mark.model
def test_model_option_applies_to_one_answer_only(shell, model_path, tmp_path, capsys):
    other = tmp_path / "other-copy.gguf"
    other.symlink_to(model_path)
    shell.run_cell(f"%ask -m {other} --max-tokens 4 Hello")
    assert "other-copy" in capsys.readouterr().out.rsplit("[", 1)[-1]
    shell.run_cell("%ask --max-tokens 4 Hello again")
    footer = capsys.readouterr().out.rsplit("[", 1)[-1]
    assert footer.startswith("llamacpp:SmolLM2-135M-Instruct-Q4_1 ·")


@pytest.mark.model
def test_use_path_registers_the_model(shell, tmp_path, model_path, capsys):
    """%tinyai use PATH remembers a model file the user just made, as `models --add` does."""
    import shutil

    from jupyter_tinyai.models.added import load_added

    mine = tmp_path / "my-finetune.gguf"
    shutil.copyfile(model_path, mine)
    try:
        shell.run_line_magic("tinyai", f"use {mine}")
        assert "using llamacpp:my-finetune" in capsys.readouterr().out
        assert [e["path"] for e in load_added()] == [str(mine)]
    finally:
        shell.run_line_magic("tinyai", "use smollm2")


@pytest.mark.model
def test_use_chooses_the_kernels_model_and_m_is_for_one_answer(shell, model_path, tmp_path, capsys):
    def footer() -> str:
        return capsys.readouterr().out.rsplit("[", 1)[-1]

    def marked() -> list[str]:
        shell.run_line_magic("tinyai", "models")
        return [line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("*")]

    bundled = "llamacpp:SmolLM2-135M-Instruct-Q4_1"
    other = tmp_path / "other-model.gguf"
    other.symlink_to(model_path)
    shell.run_cell(f"%ask -m {other} --max-tokens 4 Hello")
    assert footer().startswith("llamacpp:other-model ·")
    assert marked() == [bundled]  # what an answer without -m gets, not what is loaded
    try:
        shell.run_line_magic("tinyai", f"use {other}")
        assert "using llamacpp:other-model" in capsys.readouterr().out
        shell.run_cell("%ask -m smollm2 --max-tokens 4 Hello")
        assert footer().startswith(f"{bundled} ·")
        shell.run_cell("%ask --max-tokens 4 Hello again")
        assert footer().startswith("llamacpp:other-model ·")
    finally:
        shell.run_line_magic("tinyai", "use smollm2")


def test_tinyai_models_lists_a_bad_file_as_one_warning_line(plain_shell, capsys):
    import os
    import pathlib

    from helpers.gguf_files import tiny_model_metadata, write_gguf

    metadata = tiny_model_metadata()
    metadata["general.alignment"] = "32"
    bad = write_gguf(pathlib.Path(os.environ["HF_HUB_CACHE"], "models--x--Bad", "snapshots", "r1", "bad.gguf"), metadata)
    plain_shell.run_line_magic("tinyai", "models")
    lines = capsys.readouterr().out.splitlines()
    assert any("llamacpp:SmolLM2-135M-Instruct-Q4_1" in line for line in lines)
    assert [line for line in lines if bad in line] == [line for line in lines if line.startswith("warning: ")]
    assert len([line for line in lines if line.startswith("warning: ")]) == 1
