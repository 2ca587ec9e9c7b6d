"""One entry of ``c.TinyAI.remotes``: where the server is, how to authenticate, how long to wait."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ModelNotFound, RemoteError

DEFAULT_TIMEOUT = 60.0  # seconds to wait for an answer to start, and between two of its events
LIST_TIMEOUT = 5.0  # listing models must not hang `jupyter tinyai models` for long
MIN_SECRET_CHARS = 8  # a shorter API key is not masked in server text (it would mask words)


@dataclass
class Remote:
    """One entry of ``c.TinyAI.remotes``: where the server is and how to authenticate."""

    name: str
    url: str  # the OpenAI base, ending in /v1
    api_key_env: str = ""
    timeout: float = DEFAULT_TIMEOUT
    n_ctx: int = 0  # 0: from the server's model list, else c.TinyAI.n_ctx

    @classmethod
    def from_config(cls, name: str, entry) -> Remote:
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
    def from_extra(cls, extra: dict) -> Remote:
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

    def scrub(self, text: str) -> str:
        """Text the server sent (an error body, an exception), with our key masked where the
        server echoed it. Only a key long enough to be a secret is masked: a short one
        ("key", "error") would mask ordinary words, and is no secret."""
        key = self.api_key()
        return text.replace(key, "***") if len(key) >= MIN_SECRET_CHARS else text

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
