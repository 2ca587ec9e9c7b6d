"""The one terminal progress line (jupyter tinyai ask and pull, %tinyai use, the IPython terminal)."""

import io

from jupyter_tinyai.magics.display import TerminalAnswer
from jupyter_tinyai.models.commands import _PullView
from jupyter_tinyai.progress import ProgressLine


def test_quick_loads_show_nothing():
    out = io.StringIO()
    progress = ProgressLine(out, delay=60)
    progress(0.0, "loading m")
    progress(1.0, "loaded m")
    assert out.getvalue() == ""


def test_slow_loads_show_one_line_that_ends_clean():
    out = io.StringIO()
    progress = ProgressLine(out, delay=0)
    progress(0.0, "loading a-long-model-name")
    progress(1.0, "loaded m")
    first, second = out.getvalue().split("\r")
    assert first == "loading a-long-model-name   0%"
    assert second.startswith("loaded m 100%") and len(second.rstrip("\n")) >= len(first)
    assert out.getvalue().endswith("\n")


def test_the_line_is_rewritten_at_most_every_interval_and_the_end_always_shows():
    out = io.StringIO()
    progress = ProgressLine(out, delay=0, every=3600)
    for i in range(100):
        progress(i / 100, "loading m")
    progress(1.0, "loaded m")
    assert out.getvalue() == "loading m   0%\rloaded m 100% \n"  # covers the longer line


def test_end_leaves_an_unfinished_line_once():
    out = io.StringIO()
    progress = ProgressLine(out, delay=0)
    progress.end()
    assert out.getvalue() == ""
    progress(0.5, "pulling m")
    progress.end()
    progress.end()
    assert out.getvalue() == "pulling m  50%\r\n"


def test_every_front_end_prints_the_same_line():
    class Pull:
        phase, fraction = "downloading", 0.5

        def message(self):
            return "pulling m"

    pull, terminal = io.StringIO(), io.StringIO()
    _PullView(pull)(Pull())
    answer = TerminalAnswer(stream=terminal)
    answer.progress(0.5, "pulling m")
    answer.end_progress()
    assert pull.getvalue() == "pulling m  50%\r" and terminal.getvalue() == "pulling m  50%\r\n"
