"""Render a model's chat template safely, with a fallback when a model has none.

GGUF files carry their Jinja chat template in ``tokenizer.chat_template``. Templates come
from downloaded files, so they run in Jinja's immutable sandbox: no attribute access to
Python internals, no mutation of our objects.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# ChatML: what SmolLM2, Qwen and many small models use; our fallback for template-less models.
CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def _raise(message):
    raise TemplateError(message)


@lru_cache(maxsize=8)
def _compile(source: str):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(source)


def render(template: str, messages: list[dict], bos_token: str = "", eos_token: str = "", thinking: bool = True) -> str:
    """The prompt text for ``messages``, ending with the assistant's turn opening.

    ``thinking`` is the template's ``enable_thinking`` (Qwen3's and others' switch for
    reasoning before the answer); templates without it ignore it.

    Falls back to ChatML when ``template`` is empty or fails to render.
    """
    for source in (template, CHATML) if template else (CHATML,):
        try:
            return _compile(source).render(
                messages=messages,
                add_generation_prompt=True,
                bos_token=bos_token,
                eos_token=eos_token,
                enable_thinking=thinking,
            )
        except TemplateError:
            continue
    raise AssertionError("the ChatML fallback template failed")  # pragma: no cover
