"""Completion prompts: fill-in-the-middle by model family, or a short chat prompt.

A code model trained for fill-in-the-middle (FIM) has special tokens for it, and the family
is told by their spelling in the GGUF's vocabulary:

=============  ====================  ====================  ====================
family         prefix                suffix                middle
=============  ====================  ====================  ====================
qwen           ``<|fim_prefix|>``    ``<|fim_suffix|>``    ``<|fim_middle|>``   (Qwen2.5-Coder, CodeGemma)
starcoder      ``<fim_prefix>``      ``<fim_suffix>``      ``<fim_middle>``     (StarCoder 1/2, Granite code)
deepseek       ``<｜fim▁begin｜>``     ``<｜fim▁hole｜>``      ``<｜fim▁end｜>``      (DeepSeek-Coder)
codellama      ``▁<PRE>``            ``▁<SUF>``            ``▁<MID>``           (CodeLlama)
=============  ====================  ====================  ====================

The FIM prompt is laid out as llama.cpp's ``/infill`` does it, which llama.vscode relies on
for speed: extra context chunks first (separated by the family's file-separator token when it
has one), then ``prefix-token`` + the lines before the cursor's line + ``suffix-token`` + the
text after the cursor + ``middle-token`` + the cursor's line up to the cursor. Typing on a line
changes only the tokens after the middle token, so only those are evaluated again.

A model without FIM tokens (the bundled SmolLM2-135M-Instruct among them: ``<fim_prefix>`` is
plain text to it) gets a short chat prompt through its own chat template: the other code and
the code after the cursor in the user's turn, and the answer already begun with a code fence
and the code before the cursor, so the model continues it; the prefix is last, so typing
again evaluates only what changed.

Special tokens are inserted by id: the user's code is tokenized with ``special=False``, so
code that contains ``<|fim_prefix|>`` as text cannot inject a control token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..types import ContextPiece


class Vocab(Protocol):
    """What prompt assembly needs of a tokenizer (``backends.llamacpp_side.Vocabulary``)."""

    bos: int | None

    def tokenize(self, text: str, special: bool = False) -> list[int]: ...

    def token_id(self, text: str) -> int | None: ...


@dataclass(frozen=True)
class Family:
    """How one family of code models spells its fill-in-the-middle tokens."""

    name: str
    prefix: tuple  # spellings, the first one found in the vocabulary wins
    suffix: tuple
    middle: tuple
    file_sep: tuple = ()  # separates files (our extra chunks) in repository-level prompts
    repo: tuple = ()  # starts a repository-level prompt, followed by a repository name


FAMILIES = (
    Family("qwen", ("<|fim_prefix|>",), ("<|fim_suffix|>",), ("<|fim_middle|>",),
           ("<|file_sep|>", "<|file_separator|>"), ("<|repo_name|>",)),
    Family("starcoder", ("<fim_prefix>", "<fim-prefix>"), ("<fim_suffix>", "<fim-suffix>"),
           ("<fim_middle>", "<fim-middle>"), ("<file_sep>",), ("<repo_name>",)),
    Family("deepseek", ("<｜fim▁begin｜>",), ("<｜fim▁hole｜>",), ("<｜fim▁end｜>",)),
    Family("codellama", ("▁<PRE>", "<PRE>"), ("▁<SUF>", "<SUF>"), ("▁<MID>", "<MID>")),
)

#: the FIM token spellings of every family, as they appear in a GGUF's token list
FIM_PREFIX_TOKENS = tuple(text for family in FAMILIES for text in family.prefix)

#: the name a chunk of context gets when it has no label
CHUNK_NAME = "notebook"
#: what separates chunks for a family without a file-separator token ("--- snippet ---" as llama.cpp)
CHUNK_SEPARATOR = "\n\n# --- snippet ---\n\n"

#: comment leaders for the languages of notebook kernels (Markdown cells become comments)
COMMENTS = {"python": "#", "r": "#", "julia": "#", "bash": "#", "sh": "#", "ruby": "#", "perl": "#",
            "sql": "--", "haskell": "--", "lua": "--", "matlab": "%", "octave": "%"}


def comment_leader(language: str) -> str:
    return COMMENTS.get((language or "python").lower(), "//")


def _first(vocab: Vocab, spellings: tuple) -> int | None:
    for text in spellings:
        token = vocab.token_id(text)
        if token is not None:
            return token
    return None


@dataclass(frozen=True)
class FimFormat:
    """A fill-in-the-middle prompt for one model's vocabulary."""

    family: str
    prefix: int
    suffix: int
    middle: int
    file_sep: int | None = None
    repo: int | None = None
    bos: int | None = None

    name = property(lambda self: f"fim:{self.family}")
    #: text that ends a completion besides the end-of-generation tokens
    stop_texts: tuple = ()

    def tokens(self, vocab: Vocab, *, prefix: str, suffix: str, extra: Sequence[ContextPiece] = (),
               language: str = "python") -> list[int]:
        before, line = split_line(prefix)
        out = [self.bos] if self.bos is not None else []
        if extra:
            out += self._extra(vocab, extra)
        out += [self.prefix, *vocab.tokenize(before), self.suffix, *vocab.tokenize(suffix), self.middle]
        return out + vocab.tokenize(line)

    def _extra(self, vocab: Vocab, extra: Sequence[ContextPiece]) -> list[int]:
        out: list[int] = []
        if self.file_sep is not None:
            if self.repo is not None:
                out += [self.repo, *vocab.tokenize(f"{CHUNK_NAME}\n")]
            for piece in extra:
                out += [self.file_sep, *vocab.tokenize(f"{piece.label or CHUNK_NAME}\n{piece.text}\n")]
            return out + [self.file_sep, *vocab.tokenize(f"{CHUNK_NAME}\n")]
        for piece in extra:
            out += vocab.tokenize(f"{piece.text}{CHUNK_SEPARATOR}")
        return out


SYSTEM = "You complete {language} code in a notebook. Continue the code exactly where it stops. Write only code."
OTHER_CODE = "Other code from this notebook:\n```{language}\n{code}\n```\n"
AFTER_CURSOR = "The code after the cursor:\n```{language}\n{code}\n```\n"
INSTRUCTION = "Continue the code."

# stand-ins for the user's text while the template renders; tokenized apart (special=False)
_EXTRA, _SUFFIX = "\ue000", "\ue001"


@dataclass(frozen=True)
class ChatFormat:
    """A short chat prompt for a model without FIM tokens, through its chat template."""

    template: str
    bos_text: str = ""
    eos_text: str = ""
    bos: int | None = None

    name = "chat"
    stop_texts: tuple = ("```",)

    def tokens(self, vocab: Vocab, *, prefix: str, suffix: str, extra: Sequence[ContextPiece] = (),
               language: str = "python") -> list[int]:
        from ..backends.chat_template import render

        lang = (language or "python").lower()
        user = ""
        if extra:
            user += OTHER_CODE.format(language=lang, code=_EXTRA)
        if suffix.strip():
            user += AFTER_CURSOR.format(language=lang, code=_SUFFIX)
        messages = [
            {"role": "system", "content": SYSTEM.format(language=language or "Python")},
            {"role": "user", "content": user + INSTRUCTION},
        ]
        text = render(self.template, messages, self.bos_text, self.eos_text) + f"```{lang}\n"
        own = {_EXTRA: "\n\n".join(piece.text for piece in extra), _SUFFIX: suffix.strip("\n")}
        out: list[int] = []
        if self.bos is not None and not (self.bos_text and text.startswith(self.bos_text)):
            out.append(self.bos)
        for part in _split_keep(text, (_EXTRA, _SUFFIX)):
            out += vocab.tokenize(own[part]) if part in own else vocab.tokenize(part, special=True)
        return out + vocab.tokenize(prefix)


Format = FimFormat | ChatFormat


def fim_format(vocab: Vocab) -> FimFormat | None:
    """The FIM format of ``vocab``: the first family whose prefix, suffix and middle tokens it
    has; None when it has no complete set."""
    for family in FAMILIES:
        ids = [_first(vocab, family.prefix), _first(vocab, family.suffix), _first(vocab, family.middle)]
        if None not in ids:
            return FimFormat(family.name, *ids, file_sep=_first(vocab, family.file_sep),
                             repo=_first(vocab, family.repo), bos=vocab.bos)
    return None


def detect(vocab: Vocab, template: str = "", bos_text: str = "", eos_text: str = ""):
    """The prompt format for a model: FIM when its vocabulary has the tokens, else chat."""
    return fim_format(vocab) or ChatFormat(template, bos_text, eos_text, vocab.bos)


def split_line(prefix: str) -> tuple[str, str]:
    """(the lines before the cursor's line, with their newline; the cursor's line up to it)."""
    cut = prefix.rfind("\n") + 1
    return prefix[:cut], prefix[cut:]


def _split_keep(text: str, markers: tuple) -> list[str]:
    """``text`` split around every marker, the markers kept as parts of their own."""
    parts, start = [], 0
    for i, ch in enumerate(text):
        if ch in markers:
            parts += [text[start:i], ch]
            start = i + 1
    parts.append(text[start:])
    return [part for part in parts if part]
