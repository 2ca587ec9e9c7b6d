"""The host's log, ``tinyai-host.log``: rotated when it reaches :data:`MAX_BYTES`, one old
file kept (``tinyai-host.log.1``). The client that starts the host makes the log file its
stdout and stderr (so llama.cpp's own output and a crash's last words land there too); after
each rotation those follow to the new file. A client that resets its connection is one line,
not a traceback."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

MAX_BYTES = 4 * 1024 * 1024

log = logging.getLogger("jupyter_tinyai.host")

#: a client that went away mid-request: nothing the host did wrong
CLIENT_GONE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class HostLog(logging.handlers.RotatingFileHandler):
    """A rotating log file (user-only) that the file descriptors ``fds`` follow on rotation."""

    def __init__(self, path: str, max_bytes: int = MAX_BYTES, fds=()):
        self.fds = tuple(fds)
        super().__init__(path, maxBytes=max_bytes, backupCount=1, encoding="utf-8")
        self.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        if os.path.getsize(path) >= max_bytes:  # grown by an older host (or its stderr)
            self.doRollover()

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    def doRollover(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        super().doRollover()
        if self.stream is None:
            self.stream = self._open()
        for fd in self.fds:
            os.dup2(self.stream.fileno(), fd)


def _is_file(fd: int, path: str) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def install(path: str) -> HostLog | None:
    """Log the host's messages to ``path``, rotated, when its stdout/stderr are that file (as
    a started host's are); otherwise leave logging alone."""
    fds = [fd for fd in (1, 2) if _is_file(fd, path)]
    if not fds:
        return None
    handler = HostLog(path, fds=fds)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return handler


def request_failed(client_address) -> None:
    """socketserver's ``handle_error``: a client that reset its connection is one line; any
    other failure its traceback."""
    error = sys.exc_info()[1]
    if isinstance(error, CLIENT_GONE):
        log.info("a client closed its connection mid-request (%s); the host goes on", type(error).__name__)
    else:
        log.error("a request failed", exc_info=True)
