"""Messages for small models: our short system prompt, context pieces, and the budget.

Small models answer best with a short plain system prompt and the context stated before
the question. Everything that must fit the context window is decided here, measured in
the model's own tokens by a ``count`` function the engine passes in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import PromptTooLong
from .types import ContextPiece, Message

TRUNCATED = "\n… [truncated]"

#: a prompt is refused beyond this many times the context window (at CHARS_PER_TOKEN), and
#: never below PROMPT_FLOOR_CHARS (a small window shortens a longer prompt in no time)
PROMPT_CONTEXT_MULTIPLE = 4
CHARS_PER_TOKEN = 4
PROMPT_FLOOR_CHARS = 131_072


def user_message(prompt: str, context: list[ContextPiece]) -> str:
    if not context:
        return prompt
    return "\n\n".join([p.render() for p in context] + [prompt])


def max_prompt_chars(n_ctx: int) -> int:
    return max(PROMPT_FLOOR_CHARS, PROMPT_CONTEXT_MULTIPLE * n_ctx * CHARS_PER_TOKEN)


def check_prompt_size(prompt: str, extra: list[str], n_ctx: int) -> None:
    """Refuse, before any queueing or tokenizing, a prompt (plus ``extra``: its context
    pieces, a system prompt) far longer than an ``n_ctx``-token window: it would be cut to
    a fraction anyway, after minutes of work."""
    chars = len(prompt) + sum(len(text) for text in extra)
    limit = max_prompt_chars(n_ctx)
    if chars > limit:
        raise PromptTooLong(
            f"the prompt and its context are {chars:,} characters, more than the {limit:,} allowed with a "
            f"{n_ctx:,}-token context window (which holds about {n_ctx * CHARS_PER_TOKEN:,}). Send less "
            "(the part that matters, or a summary), or use a model with a longer context (c.TinyAI.n_ctx)."
        )


def build(system: str, history: list[Message], prompt: str, context: list[ContextPiece]) -> list[Message]:
    messages = [Message("system", system)] if system else []
    return messages + list(history) + [Message("user", user_message(prompt, context))]


def shorten(text: str, keep: int) -> str:
    """``text`` cut to about ``keep`` characters, head and tail kept, with a visible marker."""
    if len(text) <= keep:
        return text
    head = max(0, keep * 2 // 3)
    tail = max(0, keep - head)
    return text[:head] + TRUNCATED + ("\n" + text[-tail:] if tail else "")


@dataclass
class Budgeted:
    messages: list[Message]
    history_dropped: int  # earlier turns (user + assistant pairs) left out
    pieces_shortened: int
    prompt_shortened: bool
    tokens: int

    def notice(self, n_ctx: int) -> str | None:
        parts = []
        if self.history_dropped:
            parts.append(f"left out {self.history_dropped} earlier turn{'s' * (self.history_dropped != 1)}")
        if self.pieces_shortened:
            parts.append(f"shortened {self.pieces_shortened} context piece{'s' * (self.pieces_shortened != 1)}")
        if self.prompt_shortened:
            parts.append("shortened the prompt")
        if not parts:
            return None
        return f"To fit the {n_ctx}-token context window, this answer {', '.join(parts)}."


def fit(
    system: str,
    history: list[Message],
    prompt: str,
    context: list[ContextPiece],
    count: Callable[[list[Message]], int],
    limit: int,
) -> Budgeted:
    """Messages that fit in ``limit`` tokens: drop the oldest turns first, then shorten the
    largest context pieces, then the prompt itself (its head and tail are kept)."""
    history = list(history)
    originals = [p.text for p in context]
    context = [ContextPiece(p.label, p.text) for p in context]
    original_prompt = prompt
    dropped = 0
    shortened: set[int] = set()

    def measure():
        msgs = build(system, history, prompt, context)
        return msgs, count(msgs)

    messages, tokens = measure()
    while tokens > limit and history:
        history = history[2:]
        dropped += 1
        messages, tokens = measure()
    # shorten the largest piece (from its original text, so markers do not pile up)
    while tokens > limit and any(len(p.text) > 200 for p in context):
        index = max(range(len(context)), key=lambda i: len(context[i].text))
        keep = int(len(context[index].text) * max(0.1, min(0.9, limit / tokens)) * 0.9)
        context[index].text = shorten(originals[index], keep)
        shortened.add(index)
        messages, tokens = measure()
    while tokens > limit and len(prompt) > 200:
        keep = int(len(prompt) * max(0.1, min(0.9, limit / tokens)) * 0.9)
        prompt = shorten(original_prompt, keep)
        messages, tokens = measure()
    prompt_shortened = prompt != original_prompt
    return Budgeted(messages, dropped, len(shortened), prompt_shortened, tokens)


EXPLAIN = (
    "Explain what this Python code does, step by step, in a few short sentences. "
    "Mention anything surprising or likely to be a bug."
)
EXPLAIN_ERROR = (
    "This Python code raised the error below. Explain the cause in one or two sentences, "
    "then show the corrected code in a fenced code block."
)


def explain_prompt(code: str) -> str:
    return f"{EXPLAIN}\n\n```python\n{code}\n```"


def explain_error_prompt(code: str, traceback: str) -> str:
    return f"{EXPLAIN_ERROR}\n\n```python\n{code}\n```\n\nError:\n```\n{traceback}\n```"
