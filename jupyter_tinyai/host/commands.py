"""The host's part of ``jupyter tinyai``: the ``serve`` subcommand and the host lines of
``status``."""

from __future__ import annotations

import sys

from .._version import __version__


def _duration(seconds) -> str:
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _timer(limit, remaining) -> str:
    if not limit:
        return "never"
    text = f"after {_duration(limit)} idle"
    return text + (f" (in {_duration(remaining)})" if remaining is not None else "")


def host_lines(host: dict) -> list[str]:
    """Lines of ``jupyter tinyai status`` about the host (``status()["host"]``)."""
    if not host:
        return []
    if not host.get("running", True):
        return [
            "host:     not running (the first request starts it)",
            (f"timers:   model unloads {_timer(host.get('keep_alive_s'), None)}"
             f" · host exits {_timer(host.get('idle_exit_s'), None)}"),
        ]
    if host.get("responding") is False:  # a stopped or hung process
        problem = host.get("problem") or f"pid {host.get('pid')} is not responding"
        return [f"host:     {problem}; the next request replaces it, or restart it now: jupyter tinyai serve --stop"]
    where = host.get("socket") or "loopback TCP"
    ports = host.get("ports") or []
    lines = [
        f"host:     pid {host.get('pid')} · up {_duration(host.get('uptime_s', 0))} · {where}"
        + (f" · also http://127.0.0.1:{ports[0]}/v1" if ports else "")
        + (f" · version {host['version']}, not {__version__}" if host.get("version", __version__) != __version__ else ""),
        f"queue:    {'busy' if host.get('busy') else 'idle'} · {host.get('queue', 0)} waiting",
        (f"timers:   model unloads {_timer(host.get('keep_alive_s'), host.get('unload_in_s'))}"
         f" · host exits {_timer(host.get('idle_exit_s'), host.get('exit_in_s')) if not ports else 'never while serving a port'}"),
    ]
    return lines


def cmd_serve(args) -> int:
    """Start the host if needed; with --port, also serve the OpenAI-compatible API there."""
    from ..config import load_settings
    from . import lifecycle
    from .client import HostClient

    client = HostClient(load_settings())
    if args.stop:
        stopped = client.shutdown()
        print("the model host stopped" if stopped else "no model host is running")
        return 0
    info = client.host_info(start=True)
    print(f"model host: pid {info['pid']}, socket {info.get('socket') or 'loopback TCP'} (log: {lifecycle.log_file()})")
    if args.port is None:
        return 0
    answer = client._json("POST", "/tinyai/listen", {"port": args.port})
    print(f"OpenAI-compatible API: {answer['url']}  (for example: OpenAI(base_url=\"{answer['url']}\", api_key=TOKEN))")
    if answer.get("new"):
        print(f"API key (bearer token), shown once: {answer['token']}")
    else:
        print(f"already serving; the token is in {lifecycle.runtime_file()} (readable by you only)")
    print("stop with: jupyter tinyai serve --stop", file=sys.stderr)
    return 0


def add_serve(sub) -> None:
    """Register ``jupyter tinyai serve`` on the CLI's subparsers."""
    serve = sub.add_parser(
        "serve",
        help="start the shared model host; with --port, also serve an OpenAI-compatible API",
        description="Start the background model host (clients also start it on first use). With --port N it also "
        "listens on 127.0.0.1:N with a bearer token, serving /v1/models and /v1/chat/completions to other tools "
        "(an OpenAI client, LangChain, jupyter-ai), and does not exit when idle.",
    )
    serve.add_argument("--port", type=int, help="also listen on 127.0.0.1:PORT (0: any free port)")
    serve.add_argument("--stop", action="store_true", help="stop the running host (its model is unloaded)")
    serve.set_defaults(func=cmd_serve)
