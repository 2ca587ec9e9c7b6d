"""The host's part of ``jupyter tinyai``: the ``serve`` subcommand."""

from __future__ import annotations

import sys


def cmd_serve(args) -> int:
    """Start the host if needed; with --port, also serve the OpenAI-compatible API there."""
    from ..config import load_settings
    from . import runtime
    from .client import HostClient

    client = HostClient(load_settings())
    if args.stop:
        stopped = client.shutdown()
        print("the model host stopped" if stopped else "no model host is running")
        return 0
    info = client.host_info(start=True)
    print(f"model host: pid {info['pid']}, socket {info.get('socket') or 'loopback TCP'} (log: {runtime.log_file()})")
    if args.port is None:
        return 0
    answer = client._json("POST", "/tinyai/listen", {"port": args.port})
    print(f"OpenAI-compatible API: {answer['url']}  (for example: OpenAI(base_url=\"{answer['url']}\", api_key=TOKEN))")
    if answer.get("new"):
        print(f"API key (bearer token), shown once: {answer['token']}")
    else:
        print(f"already serving; the token is in {runtime.runtime_file()} (readable by you only)")
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
