"""Errors a user can act on.

Every error raised to a user is a :class:`TinyAIError`: its message says what happened
and what to do, in one or two sentences, so magics, the CLI and the server can show it
as it is, without a traceback.
"""

from __future__ import annotations


class TinyAIError(Exception):
    """Base class: ``str(error)`` is the whole message a user needs."""

    #: a short machine-readable kind, sent over the wire by the host and the server
    kind = "error"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": str(self)}


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
    """A request value outside what is allowed (a temperature of NaN, max_tokens of -5)."""

    kind = "bad_request"


class BadSetting(TinyAIError):
    """Settings that cannot work together (say, a quantized KV cache without flash attention)."""

    kind = "bad_setting"


class EmptyPrompt(TinyAIError):
    kind = "empty_prompt"


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
    kinds = {cls.kind: cls for cls in _all_subclasses(TinyAIError)}
    cls = kinds.get(data.get("kind", ""), TinyAIError)
    return cls(data.get("message", "unknown error"))


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)
