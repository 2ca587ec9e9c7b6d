"""``HostClient``: the engine's API, served by the background host (started on first use).

    client = HostClient()
    for chunk in client.chat("What is the capital of France?", conversation="nb-1"):
        print(chunk.text, end="")

The magics, the Jupyter server extension and the CLI use it exactly like an ``Engine``.
If the host dies in the middle of an answer, the call raises a :class:`HostError` that
says why (the signal, and what to do) and carries the text received so far as ``.partial``;
the next call starts a new host. So does a host that sends nothing for
``c.TinyAI.host_timeout`` seconds (a working host sends a keep-alive every few seconds): it
is stopped or hung, and the next call replaces it.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import threading
import uuid
from collections.abc import Iterable, Iterator
from urllib.parse import quote

from .. import errors
from ..choice import callers_path, settings_body
from ..config import TinyAI, load_settings
from ..edits import EditRequest, EditStream
from ..errors import HostError
from ..scheduler import queued_chunk
from ..types import Chunk, ContextPiece, Message, ProgressCallback, Stats, collect
from ..validation import generation
from ..watch import when
from . import crashes, lifecycle, liveness, runtime
from .protocol import read_events

#: failures of a connection to a host that is not (or no longer) there
GONE = (ConnectionRefusedError, FileNotFoundError, ConnectionResetError, BrokenPipeError,
        http.client.RemoteDisconnected, http.client.IncompleteRead, http.client.BadStatusLine)

STATUS_TIMEOUT = 5.0  # `status` answers within this whatever the host does


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class _Call:
    """One streamed request of this client: its id on the host and its cancel event."""

    def __init__(self, cancel: threading.Event | None):
        self.id = uuid.uuid4().hex
        self.cancel = cancel or threading.Event()
        self.done = threading.Event()


class HostClient:
    """The engine API over the host's socket. Thread-safe; one instance per process is
    enough (``jupyter_tinyai.api.default_client``)."""

    def __init__(self, settings: TinyAI | None = None, timeout: float | None = None):
        self.settings = settings or load_settings()
        self.timeout = timeout  # None: c.TinyAI.host_timeout
        self._info: dict | None = None
        self._calls: set[_Call] = set()
        self._lock = threading.Lock()

    # -- the host ---------------------------------------------------------------------------

    def host_info(self, start: bool = True) -> dict | None:
        """The running host's runtime info, starting a host if ``start`` and none runs."""
        info = self._info
        if info is not None and liveness.is_alive(info) and not liveness.is_stopped(info):
            return info
        self._info = lifecycle.ensure_host(self.settings) if start else liveness.running_host()
        return self._info

    def _connection(self, info: dict, timeout: float | None = None) -> http.client.HTTPConnection:
        if info.get("socket"):
            return _UnixConnection(info["socket"], timeout)
        return http.client.HTTPConnection("127.0.0.1", int(info["port"]), timeout=timeout)

    def _headers(self, info: dict) -> dict:
        return liveness.headers(info)

    def _timeout(self) -> float | None:
        """Seconds without a byte from the host before it counts as hung (None: never)."""
        seconds = self.settings.host_timeout if self.timeout is None else self.timeout
        return seconds or None

    def _hung(self, info: dict, seconds: float | None) -> HostError:
        self._info = None  # the next request checks the host again, and replaces a hung one
        return HostError(crashes.hung_message(info, seconds or 0))

    def _open(self, method: str, path: str, body=None, start: bool = True, timeout: float | None = None,
              patient: bool = False):
        """Send a request; a host that vanished since we last saw it is replaced once. A
        ``patient`` request may wait longer than ``timeout`` for its answer (e.g. behind
        others in the queue) as long as the host answers pings meanwhile."""
        for attempt in (1, 2):
            info = self.host_info(start)
            if info is None:
                return None, None
            conn = self._connection(info, timeout)
            try:
                conn.request(method, path, body=None if body is None else json.dumps(body), headers=self._headers(info))
                if patient and timeout:
                    self._await_answer(conn, info, timeout)
                return info, conn.getresponse()
            except GONE:
                conn.close()
                self._info = None  # gone, or going (an idle host removes its runtime file first)
                if attempt == 2:
                    raise HostError(crashes.crash_message(info)) from None
            except TimeoutError:
                conn.close()
                raise self._hung(info, timeout) from None
        raise AssertionError("unreachable")

    def _await_answer(self, conn, info: dict, timeout: float) -> None:
        """Wait until the answer starts; TimeoutError when the host stops answering pings."""
        while not select.select([conn.sock], [], [], timeout)[0]:
            if not liveness.responds(info, timeout=min(timeout, liveness.PING_TIMEOUT)):
                raise TimeoutError()

    def _json(self, method: str, path: str, body=None, start: bool = True):
        timeout = self._timeout()
        info, response = self._open(method, path, body, start, timeout=timeout, patient=True)
        if response is None:
            return None
        try:
            data = json.loads(response.read() or b"null")
        except GONE:
            self._info = None
            raise HostError(crashes.crash_message(info)) from None
        except TimeoutError:
            raise self._hung(info, timeout) from None
        finally:
            response.close()
        if response.status >= 400:
            raise errors.from_dict(data if isinstance(data, dict) and "kind" in data else {"message": str(data)})
        return data

    def _events(self, path: str, body: dict) -> Iterator[tuple[str, dict]]:
        """The SSE events of a streamed request; a stream that breaks, or stays silent for
        the host timeout (a working host sends keep-alives), raises HostError."""
        timeout = self._timeout()
        info, response = self._open("POST", path, body, timeout=timeout)
        try:
            if response.status >= 400:
                data = json.loads(response.read() or b"{}")
                raise errors.from_dict(data if "kind" in data else {"message": str(data)})
            for name, data in read_events(iter(response.readline, b"")):
                yield name, data
                if name in ("done", "error"):
                    return
        except TimeoutError:
            raise self._hung(info, timeout) from None
        except GONE + (OSError,):
            pass
        finally:
            response.close()
        self._info = None
        raise HostError(crashes.crash_message(info))

    def _settings_body(self) -> dict:
        """This client's choice (model, adapter, load settings, remotes), sent with every
        request: the host applies the rule of :mod:`..choice` to it. Keys are never sent:
        only the names of the remotes' key variables that are set here (``keys_set``), so
        the host can say to restart it when it was started without one."""
        values = settings_body(self.settings)
        values["keys_set"] = sorted(
            entry["api_key_env"] for entry in values["remotes"].values()
            if isinstance(entry, dict) and isinstance(entry.get("api_key_env"), str) and os.environ.get(entry["api_key_env"])
        )
        return values

    # -- generation ---------------------------------------------------------------------------

    def chat(
        self,
        prompt: str,
        *,
        conversation: str = "default",
        model: str | None = None,
        system: str | None = None,
        context: Iterable[ContextPiece] = (),
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
        cancel: threading.Event | None = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[Chunk]:
        """Stream the answer to ``prompt`` as the next turn of ``conversation`` (see
        ``Engine.chat``): while earlier requests run, chunks say the place in the host's queue."""
        s = self.settings
        call = _Call(cancel)
        body = {
            "id": call.id,
            "prompt": prompt,
            "conversation": conversation,
            "model": callers_path(model) or None,  # none: the host loads this client's choice (settings.model, else the default)
            "system": s.system_prompt if system is None else system,
            "context": [{"label": c.label, "text": c.text} for c in context],
            "temperature": s.temperature if temperature is None else temperature,
            "max_tokens": s.max_tokens if max_tokens is None else max_tokens,
            "seed": (None if s.seed < 0 else s.seed) if seed is None else seed,
            "settings": self._settings_body(),
        }
        return self._chat(call, body, progress)

    def complete(
        self,
        prefix: str,
        suffix: str = "",
        *,
        extra: Iterable[ContextPiece] = (),
        model: str | None = None,
        language: str = "python",
        max_tokens: int | None = None,
        max_lines: int | None = None,
        time_budget: float | None = None,
        session: str = "default",
        cancel: threading.Event | None = None,
    ) -> Iterator[Chunk]:
        """Stream the code to insert between ``prefix`` and ``suffix`` (see ``Engine.complete``):
        served at once on the host's completion lane, never behind a chat answer; a new
        request of the same ``session`` ends this one."""
        s = self.settings
        call = _Call(cancel)
        body = {
            "id": call.id,
            "prefix": prefix,
            "suffix": suffix,
            "extra": [{"label": c.label, "text": c.text} for c in extra],
            "model": model or None,
            "language": language,
            "max_tokens": s.completion_max_tokens if max_tokens is None else max_tokens,
            "max_lines": s.completion_max_lines if max_lines is None else max_lines,
            "time_budget": s.completion_time_budget if time_budget is None else time_budget,
            "session": session,
            "settings": {**self._settings_body(), "completion_model": s.completion_model},
        }
        return self._chat(call, body, None, "/tinyai/complete")

    def edit(
        self,
        code: str,
        *,
        instruction: str | None = None,
        error: str | None = None,
        selection: tuple[int, int] | None = None,
        conversation: str = "edit",
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
        cancel: threading.Event | None = None,
        progress: ProgressCallback | None = None,
    ) -> EditStream:
        """Propose a new version of the cell ``code`` (see ``Engine.edit``): the answer's
        chunks, then the stream's ``result`` (the new cell and its diff, or one line saying
        why there is nothing to apply). Bad input raises here, before the host is asked."""
        request = EditRequest(code, instruction, error, selection).check()
        checked = generation(temperature, max_tokens, seed)  # None: the host's greedy default for edits
        call = _Call(cancel)
        body = {
            "id": call.id,
            **request.to_dict(),
            "conversation": conversation,
            "model": callers_path(model) or None,
            **checked,
            "settings": self._settings_body(),
        }
        return EditStream(request, self._chat(call, body, progress, "/tinyai/edit"))

    def _chat(self, call: _Call, body: dict, progress, path: str = "/tinyai/chat") -> Iterator[Chunk]:
        with self._lock:
            self._calls.add(call)
        when(call.cancel, lambda: self._tell_cancel(call), unless=call.done, name="tinyai-cancel")
        parts: list[str] = []
        events = self._events(path, body)
        try:
            for name, data in events:
                if name == "chunk":
                    chunk = Chunk.from_dict(data)
                    parts.append(chunk.text)
                    yield chunk
                elif name == "queue":
                    yield queued_chunk(int(data.get("position", 0)))
                elif name == "progress" and progress:
                    progress(float(data.get("fraction", 0.0)), str(data.get("message", "")))
                elif name == "error":
                    raise errors.from_dict(data)
                elif name == "done" and data.get("cancelled"):
                    yield Chunk(stats=Stats(finish_reason="cancelled"))
        except HostError as exc:
            exc.partial = "".join(parts)
            raise
        finally:
            events.close()  # closes the connection: the host stops an answer no one reads
            call.done.set()
            with self._lock:
                self._calls.discard(call)

    def _tell_cancel(self, call: _Call) -> None:
        """Tell the host that ``call.cancel`` is set (by cancel() or the caller's event)."""
        try:
            self._json("POST", "/tinyai/cancel", {"id": call.id}, start=False)
        except (HostError, OSError):
            pass

    def ask(self, prompt: str, **kwargs) -> tuple[str, Stats]:
        """The whole answer at once: (text, stats)."""
        return collect(self.chat(prompt, **kwargs))

    def cancel(self) -> bool:
        """Stop this client's answers (running or queued) within about one token; False
        when there is none."""
        with self._lock:
            calls = list(self._calls)
        for call in calls:
            call.cancel.set()
        return bool(calls)

    # -- models ---------------------------------------------------------------------------------

    def list_models(self):
        """Every model found on this machine (scanned here: no host needed)."""
        from .. import models

        return models.list_models(self.settings)

    def load(self, model: str | None = None, progress: ProgressCallback | None = None):
        from ..models import ModelSpec

        body = {"id": uuid.uuid4().hex, "model": callers_path(model) or None, "settings": self._settings_body()}
        for name, data in self._events("/tinyai/load", body):
            if name == "progress" and progress:
                progress(float(data.get("fraction", 0.0)), str(data.get("message", "")))
            elif name == "error":
                raise errors.from_dict(data)
            elif name == "done":
                return ModelSpec.from_dict(data["model"])
        raise HostError("the model host ended the load request without an answer.")

    def unload(self) -> None:
        self._json("POST", "/tinyai/unload", {}, start=False)

    # -- conversations and status -----------------------------------------------------------------

    def history(self, conversation: str = "default") -> list[Message]:
        data = self._json("GET", f"/tinyai/history?conversation={quote(conversation)}", start=False)
        return [Message(m["role"], m["content"]) for m in data or []]

    def set_history(self, conversation: str, messages: list[Message]) -> None:
        """Replace ``conversation``'s turns (e.g. a chat saved before a restart)."""
        body = {"conversation": conversation, "messages": [{"role": m.role, "content": m.content} for m in messages]}
        self._json("POST", "/tinyai/history", body)

    def count_tokens(self, text: str) -> int:
        return int(self._json("POST", "/tinyai/count_tokens", {"text": text, "settings": self._settings_body()})["tokens"])

    def reset(self, conversation: str = "default") -> None:
        self._json("POST", "/tinyai/reset", {"conversation": conversation}, start=False)

    def status(self) -> dict:
        """The host's status, within a few seconds whatever the host does; when no host
        runs, or it does not answer (stopped, hung), says so (without starting one)."""
        info = runtime.read_info()
        if info is None or not liveness.is_alive(info):
            return self._status_without_host()
        if liveness.is_stopped(info):
            return self._status_without_host(info, "stopped (SIGSTOP, Ctrl-Z or a debugger)")
        try:
            code, status = liveness.request_json(info, "GET", "/tinyai/status", timeout=STATUS_TIMEOUT)
        except TimeoutError:
            return self._status_without_host(info, f"no answer within {STATUS_TIMEOUT:.0f} s")
        except OSError:  # it went away meanwhile
            return self._status_without_host()
        if code != 200 or not isinstance(status, dict) or not isinstance(status.get("host"), dict):
            return self._status_without_host(info, f"it answered {code}")
        status["host"]["running"] = True
        return status

    def _status_without_host(self, info: dict | None = None, problem: str | None = None) -> dict:
        host = {"running": False, "keep_alive_s": self.settings.keep_alive, "idle_exit_s": self.settings.host_idle_exit,
                "queue": 0}
        if info is not None:  # a process that does not answer
            host.update(running=True, responding=False, pid=info.get("pid"), version=info.get("version"),
                        problem=f"pid {info.get('pid')} is not responding: {problem}")
        return {
            "model": None, "backend": None, "n_ctx": None, "adapter": None, "model_memory_bytes": 0,
            "process_rss_bytes": 0, "conversation_cache_bytes": 0, "conversations": [], "load_seconds": 0.0,
            "busy": False, "last": None, "host": host,
        }

    def model_events(self, after: int = -1, stop: threading.Event | None = None) -> Iterator[dict]:
        """The running host's snapshots of its loaded model (see :mod:`..modelstate`), the
        current one first, then each change, until ``stop`` is set or the host goes (then the
        iterator ends; it never starts a host)."""
        stop = stop or threading.Event()
        info = self.host_info(start=False)
        if info is None:
            return
        conn = self._connection(info, self._timeout())
        finished = threading.Event()
        sock = []

        def hang_up():
            try:
                sock[0].shutdown(socket.SHUT_RDWR)  # wakes the read below
            except OSError:
                pass

        try:
            conn.request("GET", f"/tinyai/model/events?after={int(after)}", headers=self._headers(info))
            sock.append(conn.sock)  # (getresponse lets the connection go: the response keeps the socket)
            response = conn.getresponse()
            if response.status >= 400:
                return
            when(stop, hang_up, unless=finished, name="tinyai-model-events", poll=0.1)
            for name, data in read_events(iter(response.readline, b"")):
                if stop.is_set():
                    return
                if name == "model":
                    yield data
        except (OSError, ValueError, http.client.HTTPException):  # the host went, or stop hung up
            return
        finally:
            finished.set()
            conn.close()

    def shutdown(self) -> bool:
        """Stop the host (its model is unloaded), answering or not; False when none was running."""
        info = runtime.read_info()
        if info is None:
            return False
        self._info = None
        return lifecycle.stop_host(info)
