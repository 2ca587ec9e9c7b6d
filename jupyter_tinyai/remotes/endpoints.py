"""What we ask of a remote server besides an answer: the models it serves and its tokenizer."""

from __future__ import annotations

from ..errors import ModelNotFound, RemoteError
from .config import Remote
from .connection import Connection

#: tokenize endpoints, tried in order: (path under the server's root, body for a model and a text)
TOKENIZERS = (
    ("/extras/tokenize", lambda model, text: {"input": text, "model": model}),  # llama-cpp-python's server
    ("/tokenize", lambda model, text: {"content": text}),  # llama.cpp's llama-server
    ("/tokenize", lambda model, text: {"model": model, "prompt": text}),  # vLLM
)


def list_server_models(remote: Remote, timeout: float | None = None) -> list[dict]:
    """The entries of the remote's ``/v1/models``."""
    data = Connection(remote, timeout).json("GET", remote.url + "/models", what="model list")
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):  # Ollama's native /api/tags shape, or something else
        entries = data.get("models", []) if isinstance(data, dict) else []
    return [e for e in entries if isinstance(e, dict) and (e.get("id") or e.get("name"))]


def entry_id(entry: dict) -> str:
    return str(entry.get("id") or entry.get("name"))


def entry_context(entry: dict) -> int:
    """The context length a model entry reports (vLLM: max_model_len; llama.cpp: meta)."""
    meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
    for value in (entry.get("max_model_len"), entry.get("context_length"), meta.get("n_ctx_train")):
        if isinstance(value, int) and value > 0:
            return value
    return 0


def find_tokenizer(remote: Remote, model: str) -> tuple | None:
    """The first of :data:`TOKENIZERS` the server answers (None: token counts are estimated)."""
    for tokenizer in TOKENIZERS:
        try:
            tokenize(remote, tokenizer, model, "Hello")
        except RemoteError as exc:
            if not getattr(exc, "answered", True) or getattr(exc, "status", None) in (401, 403):
                raise  # no answer (a timeout: the next probe would wait as long), or refused
            continue
        except ModelNotFound:
            continue
        return tokenizer
    return None


def tokenize(remote: Remote, tokenizer: tuple, model: str, text: str) -> int:
    """Tokens of ``text`` by ``model``'s tokenizer on the server (a :data:`TOKENIZERS` entry)."""
    path, body = tokenizer
    data = Connection(remote).json("POST", remote.root + path, body(model, text), what="tokenize")
    if isinstance(data.get("count"), int):
        return data["count"]
    tokens = data.get("tokens")
    if not isinstance(tokens, list):
        raise RemoteError(f"remote {remote.name!r} answered tokenize without tokens.")
    return len(tokens)
