"""A model's chat template runs sandboxed, and a template that fails falls back to ChatML."""

from jupyter_tinyai.backends.chat_template import CHATML, render


def test_chat_template_runs_sandboxed():
    messages = [{"role": "user", "content": "hi"}]
    evil = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    assert render(evil, messages) == render(CHATML, messages)
    assert render("", messages) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    raising = "{{ raise_exception('no system role') }}"
    assert render(raising, messages) == render(CHATML, messages)
