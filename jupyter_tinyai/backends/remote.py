"""A model on an OpenAI-compatible inference server (llama.cpp's server, Ollama, vLLM,
mlx_lm.server, llama-cpp-python's server), configured by the user::

    c.TinyAI.remotes = {"lab": {"url": "http://gpu-box:8080/v1", "api_key_env": "LAB_API_KEY"}}

Only the standard library (``http.client``) is used. The API key is read from the named
environment variable when a request is made; it is never stored on the spec, in a status,
a log or an error message. Nothing is sent anywhere unless the user chose one of the
remote's models (``lab:<model>``).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Iterator, Optional
from urllib.parse import urlsplit

from ..errors import GenerationError, ModelNotFound, RemoteError, TinyAIError
from .base import Backend, Chunk, GenerationParams, Message, ProgressCallback, Stats, placement_text

DEFAULT_TIMEOUT = 60.0  # seconds to wait for an answer to start, and between two of its events
LIST_TIMEOUT = 5.0  # listing models must not hang `jupyter tinyai models` for long
MIN_SECRET_CHARS = 8  # a shorter API key is not masked in server text (it would mask words)
TEMPLATE_TOKENS_PER_MESSAGE = 4  # role markers a chat template adds around each message
ESTIMATED_NOTICE = "token counts are estimated: remote {name!r} has no tokenize endpoint."


# -- configuration ----------------------------------------------------------------------


@dataclass
class Remote:
    """One entry of ``c.TinyAI.remotes``: where the server is and how to authenticate."""

    name: str
    url: str  # the OpenAI base, ending in /v1
    api_key_env: str = ""
    timeout: float = DEFAULT_TIMEOUT
    n_ctx: int = 0  # 0: from the server's model list, else c.TinyAI.n_ctx

    @classmethod
    def from_config(cls, name: str, entry) -> "Remote":
        where = f"c.TinyAI.remotes[{name!r}]"
        if isinstance(entry, str):
            entry = {"url": entry}
        if not isinstance(entry, dict) or not entry.get("url"):
            raise RemoteError(f"{where} needs a url, e.g. {{'url': 'http://gpu-box:8080/v1', 'api_key_env': 'LAB_API_KEY'}}.")
        if "api_key" in entry:
            raise RemoteError(
                f"{where} holds an API key in the config: put the key in an environment variable "
                "and name that variable in 'api_key_env' instead (config files end up in backups and notebooks)."
            )
        url = str(entry["url"]).strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteError(f"{where} has url {url!r}: use http://host:port/v1 or https://host/v1.")
        if not parts.path.endswith("/v1"):
            url += "/v1"
        try:
            timeout = float(entry.get("timeout") or DEFAULT_TIMEOUT)
            n_ctx = int(entry.get("n_ctx") or 0)
        except (TypeError, ValueError):
            raise RemoteError(f"{where}: 'timeout' (seconds) and 'n_ctx' (tokens) must be numbers.") from None
        return cls(name, url, str(entry.get("api_key_env") or ""), timeout, n_ctx)

    @classmethod
    def from_extra(cls, extra: dict) -> "Remote":
        return cls(extra["remote"], extra["url"], extra.get("api_key_env", ""),
                   float(extra.get("timeout") or DEFAULT_TIMEOUT), int(extra.get("n_ctx") or 0))

    def to_extra(self) -> dict:
        """What a ModelSpec carries (no key: only the name of its variable)."""
        return {"remote": self.name, "url": self.url, "api_key_env": self.api_key_env,
                "timeout": self.timeout, "n_ctx": self.n_ctx}

    @property
    def root(self) -> str:
        """The server's root URL (tokenize endpoints live outside /v1)."""
        return self.url[: -len("/v1")]

    def api_key(self) -> str:
        return os.environ.get(self.api_key_env, "") if self.api_key_env else ""

    def key_hint(self) -> str:
        if not self.api_key_env:
            return (f"no key is configured: add 'api_key_env': 'NAME_OF_A_VARIABLE' to "
                    f"c.TinyAI.remotes[{self.name!r}] and set that variable to the server's key.")
        if not self.api_key():
            return f"the environment variable {self.api_key_env} is not set: set it to the server's key."
        return f"check the key in the environment variable {self.api_key_env}."


def configured_remotes(settings) -> dict:
    return dict(getattr(settings, "remotes", None) or {})


def remote_for(name: str, settings) -> Remote:
    remotes = configured_remotes(settings)
    if name not in remotes:
        raise ModelNotFound(f"no remote named {name!r} in c.TinyAI.remotes (configured: {', '.join(remotes) or 'none'}).")
    return Remote.from_config(name, remotes[name])


# -- HTTP -------------------------------------------------------------------------------


class Connection:
    """One HTTP request to a remote, with errors that name the remote and what to check.

    Time limits: connecting, sending and receiving the response's head take at most
    ``timeout`` seconds together (over every address of the host name); afterwards each
    wait for data (a JSON body, the next event of a stream) gets ``timeout`` again. A
    watchdog thread closes the socket when a wait overruns, or when ``cancel`` is set.
    """

    def __init__(self, remote: Remote, timeout: Optional[float] = None, cancel: Optional[threading.Event] = None):
        self.remote = remote
        self.timeout = timeout or remote.timeout
        self.cancel = cancel
        self.conn: Optional[http.client.HTTPConnection] = None
        self.sock: Optional[socket.socket] = None  # kept: http.client drops it when the response reads to EOF
        self.deadline: Optional[float] = None  # time.monotonic() the current wait must end by
        self.expired = False  # a wait overran: the watchdog closed the socket
        self._closed = threading.Event()

    def scrub(self, text: str) -> str:
        """Text the server sent (an error body, an exception), with our key masked where the
        server echoed it. Only a key long enough to be a secret is masked: a short one
        ("key", "error") would mask ordinary words, and is no secret."""
        key = self.remote.api_key()
        return text.replace(key, "***") if len(key) >= MIN_SECRET_CHARS else text

    def fail(self, message: str, status: Optional[int] = None, answered: bool = True) -> RemoteError:
        """Our message (server text in it passed through :meth:`scrub`), with the HTTP
        ``status`` the server answered, and whether it ``answered`` at all (False: it could
        not be reached, or a wait timed out)."""
        error = RemoteError(message)
        error.status, error.answered = status, answered
        return error

    def wait(self, seconds: Optional[float]) -> None:
        """The next wait for the server ends within ``seconds`` (None: no limit, e.g. while
        the caller handles a chunk)."""
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def _watch(self) -> None:
        while not self._closed.wait(0.05):
            deadline = self.deadline
            if deadline is not None and time.monotonic() > deadline:
                self.expired = True
            if self.expired or (self.cancel is not None and self.cancel.is_set()):
                self.abort()

    def _connect(self, address, timeout, source_address=None) -> socket.socket:
        """``socket.create_connection`` sharing one deadline across every address."""
        host, port = address
        last: Optional[OSError] = None
        for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
            remaining = self.deadline - time.monotonic() if self.deadline else timeout
            if remaining <= 0:
                raise socket.timeout("timed out")
            sock = socket.socket(family, kind, proto)
            sock.settimeout(remaining)
            try:
                sock.connect(sockaddr)
                sock.settimeout(timeout)  # a backstop: the watchdog keeps the deadlines
                return sock
            except OSError as exc:
                sock.close()
                last = exc
        raise last or OSError(f"no address for {host}")

    def open(self, method: str, url: str, body: Optional[dict] = None) -> http.client.HTTPResponse:
        """Send the request; the response for any status (the caller checks it)."""
        parts = urlsplit(url)
        port = parts.port
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        kwargs = {"context": _ssl_context()} if parts.scheme == "https" else {}
        self.conn = cls(parts.hostname, port, timeout=self.timeout, **kwargs)
        self.conn._create_connection = self._connect
        headers = {"Accept": "application/json, text/event-stream", "User-Agent": "jupyter-tinyai"}
        key = self.remote.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        name, shown = self.remote.name, self.remote.url
        self.wait(self.timeout)
        threading.Thread(target=self._watch, name="tinyai-remote-watch", daemon=True).start()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            self.sock = self.conn.sock
            response = self.conn.getresponse()
            self.wait(None)
            return response
        except (socket.timeout, TimeoutError, OSError, http.client.HTTPException) as exc:
            self.close()
            if self.expired or isinstance(exc, (socket.timeout, TimeoutError)):
                raise self.fail(
                    f"remote {name!r} ({shown}) did not answer within {self.timeout:g} s: the server may be "
                    f"busy or still loading the model; try again, or raise 'timeout' in c.TinyAI.remotes[{name!r}].",
                    answered=False,
                ) from None
            raise self.fail(
                f"cannot reach remote {name!r} at {shown} ({self.scrub(_reason(exc))}): check that the server is "
                f"running and reachable from here, and the url in c.TinyAI.remotes[{name!r}].",
                answered=False,
            ) from None

    def check(self, response: http.client.HTTPResponse, what: str, model: str = "") -> None:
        """Raise a clear error for a response that is not a success."""
        if 200 <= response.status < 300:
            return
        self.wait(self.timeout)
        detail = self.scrub(_error_detail(response))
        self.close()
        name, status = self.remote.name, response.status
        if status in (401, 403):
            raise self.fail(f"remote {name!r} refused the request (HTTP {status}, wrong or missing API key): {self.remote.key_hint()}", status)
        if status == 404 and model and ("model" in detail.lower() or what == "chat"):
            raise ModelNotFound(
                f"remote {name!r} has no model {model!r} ({detail or 'HTTP 404'}). Run `jupyter tinyai models` "
                f"to see the models it serves, or load/pull the model on the server."
            )
        if status == 404:
            raise self.fail(f"remote {name!r} has no {what} endpoint at {self.remote.url} (HTTP 404): check that the url "
                            "points at an OpenAI-compatible server and ends in /v1.", status)
        hint = ""
        if status in (400, 413) and ("context" in detail.lower() or "token" in detail.lower()):
            hint = f" The prompt may exceed the server's context window: set 'n_ctx' in c.TinyAI.remotes[{name!r}] to the server's."
        raise self.fail(f"remote {name!r} answered HTTP {status} to the {what} request: {detail or self.scrub(response.reason)}.{hint}", status)

    def json(self, method: str, url: str, body: Optional[dict] = None, what: str = "", model: str = "") -> dict:
        response = self.open(method, url, body)
        try:
            self.check(response, what, model)
            self.wait(self.timeout)
            raw = response.read()
            if self.expired:
                raise TimeoutError
        except (socket.timeout, TimeoutError, OSError, http.client.HTTPException) as exc:
            if self.expired or isinstance(exc, (socket.timeout, TimeoutError)):
                raise self.fail(f"remote {self.remote.name!r} stopped answering the {what} request within {self.timeout:g} s.",
                                answered=False) from None
            raise self.fail(f"the connection to remote {self.remote.name!r} broke during the {what} request "
                            f"({self.scrub(_reason(exc))}).", answered=False) from None
        finally:
            self.close()
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            raise self.fail(f"remote {self.remote.name!r} answered the {what} request with something that is not JSON: "
                            "check that the url points at an OpenAI-compatible server.") from None

    def close(self) -> None:
        self._closed.set()
        self.abort()
        conn, sock, self.conn, self.sock = self.conn, self.sock, None, None
        if conn is not None:
            conn.close()
        if sock is not None:
            sock.close()

    def abort(self) -> None:
        """Unblock a read in progress (from another thread): the server sees the client go."""
        conn = self.conn
        sock = (conn.sock if conn is not None else None) or self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _ssl_context():
    import ssl

    return ssl.create_default_context()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    text = str(exc) or type(exc).__name__
    return text[:200]


def _error_detail(response) -> str:
    try:
        raw = response.read(4096).decode("utf-8", "replace")
    except Exception:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.strip()[:200]
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            err = err.get("message") or json.dumps(err)
        if err:
            return str(err)[:200]
    return raw.strip()[:200]


def list_server_models(remote: Remote, timeout: Optional[float] = None) -> list[dict]:
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


# -- the backend ------------------------------------------------------------------------


#: tokenize endpoints, tried in order: (path under the root, body, field of the answer)
TOKENIZERS = (
    ("/extras/tokenize", lambda model, text: {"input": text, "model": model}),  # llama-cpp-python's server
    ("/tokenize", lambda model, text: {"content": text}),  # llama.cpp's llama-server
    ("/tokenize", lambda model, text: {"model": model, "prompt": text}),  # vLLM
)


class RemoteBackend(Backend):
    """Streams answers from ``<url>/chat/completions`` (SSE); cancel closes the stream."""

    name = "remote"

    def __init__(self, spec, settings):
        super().__init__(spec, settings)
        self.remote = Remote.from_extra(spec.extra)
        self.model_name = spec.name
        self._tokenizer: Optional[tuple] = None
        self._count_cache: dict = {}
        self._loaded = False

    def estimate_bytes(self) -> int:
        return 0  # the model's memory is on the server

    def placement(self) -> str:
        return placement_text(f"remote {self.remote.name}")

    def load(self, progress: Optional[ProgressCallback] = None) -> None:
        if progress:
            progress(0.0, f"connecting to remote {self.remote.name!r}")
        served = [entry_id(e) for e in list_server_models(self.remote)]
        if self.model_name not in served:
            raise ModelNotFound(
                f"remote {self.remote.name!r} ({self.remote.url}) has no model {self.model_name!r}; it serves: "
                f"{', '.join(served[:12]) or 'nothing'}. Run `jupyter tinyai models` to see them."
            )
        self._tokenizer = self._find_tokenizer()
        self._loaded = True
        if progress:
            progress(1.0, f"using {self.model_name} on remote {self.remote.name!r}")

    def unload(self) -> None:
        self._loaded = False
        self._count_cache.clear()

    @property
    def n_ctx(self) -> int:
        if self.remote.n_ctx:
            return self.remote.n_ctx
        trained = self.spec.context_length
        return min(self.settings.n_ctx, trained) if trained else self.settings.n_ctx

    @property
    def tokens_estimated(self) -> bool:
        return self._tokenizer is None

    # -- tokens -------------------------------------------------------------------------

    def _find_tokenizer(self) -> Optional[tuple]:
        """The first tokenize endpoint of the server that answers (None: estimate)."""
        for path, body in TOKENIZERS:
            try:
                self._tokenize_with((path, body), "Hello")
            except RemoteError as exc:
                if not getattr(exc, "answered", True) or getattr(exc, "status", None) in (401, 403):
                    raise  # no answer (a timeout: the next probe would wait as long), or refused
                continue
            except ModelNotFound:
                continue
            return (path, body)
        return None

    def _tokenize_with(self, tokenizer, text: str) -> int:
        path, body = tokenizer
        data = Connection(self.remote).json("POST", self.remote.root + path, body(self.model_name, text), what="tokenize")
        if isinstance(data.get("count"), int):
            return data["count"]
        tokens = data.get("tokens")
        if not isinstance(tokens, list):
            raise RemoteError(f"remote {self.remote.name!r} answered tokenize without tokens.")
        return len(tokens)

    def count_text(self, text: str) -> int:
        """Tokens of plain ``text``: the server's tokenizer, else an estimate."""
        if self._tokenizer is not None:
            return self._tokenize_with(self._tokenizer, text)
        return math.ceil(len(text.encode("utf-8")) / 3.5)

    def count_tokens(self, messages: list[Message]) -> int:
        # one request for the whole conversation; the chat template's markers are estimated
        text = _joined(messages)
        if text not in self._count_cache:
            if len(self._count_cache) > 64:
                self._count_cache.clear()
            self._count_cache[text] = self.count_text(text) + TEMPLATE_TOKENS_PER_MESSAGE * len(messages) + 2
        return self._count_cache[text]

    # -- generation ---------------------------------------------------------------------

    def _request(self, messages: list[Message], params: GenerationParams) -> dict:
        body = {
            "model": self.model_name,
            "messages": [m.to_dict() for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        return body

    def stream(self, messages: list[Message], params: GenerationParams, cancel: threading.Event) -> Iterator[Chunk]:
        """The server's answer, at most ``params.max_tokens`` deltas (a server that ignores
        the limit, or streams forever, is cut off: finish "length"); each event must come
        within the remote's timeout."""
        if not self._loaded:
            raise GenerationError("no model is loaded.")
        start = time.perf_counter()
        conn = Connection(self.remote, cancel=cancel)
        try:
            response = conn.open("POST", self.remote.url + "/chat/completions", self._request(messages, params))
            conn.check(response, "chat", self.model_name)
        except TinyAIError:
            if not cancel.is_set():
                raise
            yield Chunk(stats=self._stats(messages, "", 0, None, start, None, time.perf_counter(), "cancelled"))
            return
        answer: list[str] = []
        deltas, events, first_at, finish, usage, broken, over = 0, 0, None, "stop", None, None, False
        most_events = 2 * params.max_tokens + 32  # role, usage and empty deltas besides the text
        stream = _sse_events(response)
        try:
            while True:
                conn.wait(self.remote.timeout)
                event = next(stream, None)
                conn.wait(None)  # no deadline while the chunk is handled downstream
                if conn.expired:
                    raise TimeoutError
                if event is None:
                    if not cancel.is_set():
                        broken = "the server closed the connection before the end of the answer"
                    break
                if event == "[DONE]":
                    break
                events += 1
                if events > most_events:
                    over = True  # a server that streams forever without text
                    break
                data = _parse_event(event)
                if data is None:
                    continue
                if data.get("error"):
                    broken = f"the server reported an error mid-answer: {conn.scrub(_event_error(data['error']))}"
                    break
                if isinstance(data.get("usage"), dict):
                    usage = data["usage"]
                for choice in data.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content") or ""
                    if text and deltas >= params.max_tokens:
                        over = True  # a server that ignores max_tokens, or never ends: cut off
                        break
                    if text:
                        if first_at is None:
                            first_at = time.perf_counter()
                        deltas += 1
                        answer.append(text)
                        yield Chunk(text=text)
                    if choice.get("finish_reason"):
                        finish = "length" if choice["finish_reason"] == "length" else "stop"
                if cancel.is_set() or over:
                    break
        except (socket.timeout, TimeoutError):
            broken = f"no data from the server for {self.remote.timeout:g} s"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            broken = (f"no data from the server for {self.remote.timeout:g} s" if conn.expired
                      else f"the connection broke ({conn.scrub(_reason(exc))})")
        finally:
            conn.close()
        end = time.perf_counter()
        if over:
            finish = "length"
        if cancel.is_set():
            finish, broken = "cancelled", None
        if broken:
            message = (
                f"remote {self.remote.name!r} ({self.remote.url}): {broken}. Check that the server is still "
                f"running and reachable; raise 'timeout' in c.TinyAI.remotes[{self.remote.name!r}] if it is slow."
            )
            if not answer:
                raise RemoteError(message)
            finish = "error"
            yield Chunk(notice=message + " The partial answer above is kept.")
        stats = self._stats(messages, "".join(answer), deltas, usage, start, first_at, end, finish, ask=not broken)
        if self.tokens_estimated and not usage:
            yield Chunk(notice=ESTIMATED_NOTICE.format(name=self.remote.name), stats=stats)
        else:
            yield Chunk(stats=stats)

    def _stats(self, messages, answer, deltas, usage, start, first_at, end, finish, ask=True) -> Stats:
        """The figures of an answer: the server's usage, else its tokenizer (not when ``ask``
        is False: a server that just failed would cost another timeout), else estimates."""
        prompt_tokens = generated = cached = 0
        if usage:
            prompt_tokens = int(usage.get("prompt_tokens") or 0)
            generated = int(usage.get("completion_tokens") or 0)
            details = usage.get("prompt_tokens_details") or {}
            cached = int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0
        estimate = math.ceil(sum(len(m.content) for m in messages) / 3.5)
        if not prompt_tokens:
            try:
                prompt_tokens = self.count_tokens(messages) if ask else self._count_cache.get(_joined(messages), estimate)
            except TinyAIError:  # the server went away: the estimate will do
                prompt_tokens = estimate
        if not generated and answer:
            try:
                generated = self.count_text(answer) if self._tokenizer and ask else deltas
            except TinyAIError:
                generated = deltas  # servers send about one token per delta
        return self.timed_stats(
            start=start, first_at=first_at, end=end, prompt_tokens=prompt_tokens,
            generated=generated, cached=cached, finish=finish,
        )


def _joined(messages: list[Message]) -> str:
    return "\n".join(f"{m.role}\n{m.content}" for m in messages)


def _sse_events(response) -> Iterator[str]:
    """The data of each server-sent event (multi-line data joined), as it arrives."""
    data: list[str] = []
    while True:
        line = response.readline()
        if not line:
            if data:
                yield "\n".join(data)
            return
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # a comment (keep-alive ping)
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "error":  # llama.cpp's server reports some errors this way
            data.append(json.dumps({"error": value}))


def _parse_event(event: str) -> Optional[dict]:
    try:
        data = json.loads(event)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _event_error(error) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)[:200]
    return str(error)[:200]
