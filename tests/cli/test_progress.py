import io

from jupyter_tinyai.cli import ProgressLine


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
