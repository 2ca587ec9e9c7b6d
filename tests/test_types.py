"""The shared data types: the one figures line every front end prints."""

from jupyter_tinyai.magics.display import footer
from jupyter_tinyai.types import Stats

STATS = Stats(model="llamacpp:m", prompt_tokens=12, generated_tokens=30, ttft_s=0.0456, tokens_per_s=70.04)


def test_the_figures_line():
    assert STATS.summary() == "llamacpp:m · 12 prompt + 30 tokens · first token 46 ms · 70.0 tokens/s"


def test_the_figures_line_says_how_an_answer_ended():
    for reason, ending in (("cancelled", " · stopped"), ("length", " · cut at --max-tokens"), ("error", " · broke off")):
        assert Stats(**{**STATS.to_dict(), "finish_reason": reason}).summary() == STATS.summary() + ending
    assert STATS.summary(stopped=True) == STATS.summary() + " · stopped"
    with_adapter = Stats(**{**STATS.to_dict(), "adapter": "/loras/zero.gguf"})
    assert with_adapter.summary() == STATS.summary() + " · adapter zero.gguf"


def test_the_magics_footer_is_the_figures_line():
    assert footer(STATS) == STATS.summary()
    assert footer(STATS, stopped=True) == STATS.summary(stopped=True)
    assert footer(None, stopped=True) == "stopped" and footer(None) == ""
