"""Errors a user can act on, and the one list of their kinds.

Every error raised to a user is a :class:`TinyAIError`: its message says what happened
and what to do, in one or two sentences, so magics, the CLI and the server can show it
as it is, without a traceback. Each class has a ``kind``: the word that travels on every
wire (the host's HTTP and SSE, the OpenAI-compatible routes, the sidebar's WebSocket), made
by :meth:`TinyAIError.to_dict` and read back by :func:`from_dict`. :data:`TITLES` gives each
kind the short title front ends show before the message; the labextension's ``errorTitle``
(labextension/src/model.ts) has the same table, checked by tests/errors/test_kinds.py.
"""

from __future__ import annotations

#: every kind of error -> the title front ends show before its message (the magics: "title:
#: message"; the sidebar: "Title. message"). A kind not listed gets the title of "error".
TITLES = {
    "error": "TinyAI could not answer.",
    "internal": "TinyAI failed unexpectedly.",
    "usage": "Usage error.",
    "interrupted": "Stopped.",
    "bad_request": "The request was not understood.",
    "bad_setting": "The settings do not work together.",
    "empty_prompt": "The prompt is empty.",
    "prompt_too_long": "The prompt is too long.",
    "context": "Not found in the kernel.",
    "model_not_found": "The model was not found.",
    "ambiguous_model": "The model name is ambiguous.",
    "model_file": "The model file cannot be used.",
    "insufficient_memory": "Not enough memory for the model.",
    "backend_unavailable": "The backend cannot run here.",
    "generation": "The model failed while answering.",
    "remote": "The remote server failed.",
    "host": "The model host failed.",
    "history": "The chat history could not be used.",
    "pull": "The download failed.",
    "hub_unreachable": "The Hugging Face Hub cannot be reached.",
    "hub_access": "The Hugging Face Hub refused access.",
    "not_enough_disk": "Not enough disk space.",
    "checksum_mismatch": "The downloaded file is damaged.",
    "download_interrupted": "The download was interrupted.",
    "pull_cancelled": "The download was stopped.",
    "unauthorized": "The request was not authorized.",
    "forbidden": "The request was refused.",
    "not_found": "There is no such endpoint.",
}


def title(kind: str | None) -> str:
    """The title of an error ``kind`` (that of "error" for a kind not in :data:`TITLES`)."""
    return TITLES.get(kind or "", TITLES["error"])


class TinyAIError(Exception):
    """Base class: ``str(error)`` is the whole message a user needs."""

    #: a short machine-readable kind (a key of TITLES), sent over the wire
    kind = "error"

    def to_dict(self) -> dict:
        """The error on any wire: ``{"kind": …, "message": …}``."""
        return {"kind": self.kind, "message": str(self)}


class InternalError(TinyAIError):
    """Something failed that is not the user's to fix (a bug): the message names the
    exception and where its details are logged."""

    kind = "internal"


class UsageError(TinyAIError):
    """A command written wrongly: a magic without its question, an unknown option or subcommand."""

    kind = "usage"


class Interrupted(TinyAIError):
    """The user interrupted an answer (the text so far is kept)."""

    kind = "interrupted"


class ModelNotFound(TinyAIError):
    """A model name or path that matches nothing we can use."""

    kind = "model_not_found"


class AmbiguousModel(ModelNotFound):
    """A short name that matches several models."""

    kind = "ambiguous_model"


class ModelFileError(TinyAIError):
    """A model file that is not what it claims: not a GGUF, truncated, empty, unsupported."""

    kind = "model_file"


class InsufficientMemory(TinyAIError):
    """A model that would not fit in the memory available now."""

    kind = "insufficient_memory"


class BackendUnavailable(TinyAIError):
    """The library behind a backend is not installed or cannot run here."""

    kind = "backend_unavailable"


class InvalidRequest(TinyAIError):
    """A request value outside what is allowed (a temperature of NaN, max_tokens of -5), or a
    request that does not follow the protocol."""

    kind = "bad_request"


class Unauthorized(TinyAIError):
    """A request to the host without its bearer token (or a wrong one)."""

    kind = "unauthorized"


class Forbidden(TinyAIError):
    """A request the host never serves (one sent by a web page)."""

    kind = "forbidden"


class NoEndpoint(TinyAIError):
    """A request for a URL the host does not serve."""

    kind = "not_found"


class BadSetting(TinyAIError):
    """Settings that cannot work together (say, a quantized KV cache without flash attention)."""

    kind = "bad_setting"


class EmptyPrompt(TinyAIError):
    kind = "empty_prompt"


class ContextError(TinyAIError):
    """A ``{reference}`` in a prompt (or an %explain target) that the kernel does not have."""

    kind = "context"


class PromptTooLong(TinyAIError):
    """A prompt (with its context) far longer than any context window it could fit in."""

    kind = "prompt_too_long"


class GenerationError(TinyAIError):
    """The backend failed while generating."""

    kind = "generation"


class RemoteError(GenerationError):
    """A remote inference server that cannot be reached, refuses us or fails."""

    kind = "remote"


class HostError(TinyAIError):
    """The background host is unreachable, crashed, or answered with an error."""

    kind = "host"


class HistoryError(TinyAIError):
    """The sidebar's chat history could not be read or saved."""

    kind = "history"


class DamagedHistory(HistoryError):
    """A conversation file that could not be used; ``str(error)`` is the one-line notice.
    ``set_aside``: it was renamed out of the way (else it is still there, untouched)."""

    def __init__(self, message: str, set_aside: bool = False):
        super().__init__(message)
        self.set_aside = set_aside


class PullError(TinyAIError):
    """Getting a model from the Hugging Face Hub failed (`jupyter tinyai pull`)."""

    kind = "pull"


class HubUnreachable(PullError):
    """No connection to the Hub (offline, HF_HUB_OFFLINE, wrong HF_ENDPOINT)."""

    kind = "hub_unreachable"


class HubAccessDenied(PullError):
    """The Hub refused us: a gated model, a bad token, no access (401/403)."""

    kind = "hub_access"


class NotEnoughDisk(PullError):
    kind = "not_enough_disk"


class ChecksumMismatch(PullError):
    """The downloaded file is not the file the Hub lists; it was removed."""

    kind = "checksum_mismatch"


class DownloadInterrupted(PullError):
    """The connection dropped midway; the partial file is kept for resuming."""

    kind = "download_interrupted"


class PullCancelled(PullError):
    """The user stopped the download; the partial file is kept for resuming."""

    kind = "pull_cancelled"


def from_dict(data: dict) -> TinyAIError:
    """Rebuild an error sent over the wire (the inverse of :meth:`TinyAIError.to_dict`)."""
    cls = error_classes().get(data.get("kind", ""), TinyAIError)
    return cls(data.get("message", "unknown error"))


def error_classes() -> dict:
    """kind -> the class that defines it (subclasses that keep their parent's kind, such as
    DamagedHistory or a protocol's own bad-request error, are not listed)."""
    return {cls.kind: cls for cls in [TinyAIError, *_all_subclasses(TinyAIError)] if "kind" in vars(cls)}


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)
