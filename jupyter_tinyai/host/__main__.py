"""Run the host: ``python -m jupyter_tinyai.host`` (clients start it for you)."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_tinyai.host",
        description="The background process that holds the model for every kernel, the Jupyter server and the CLI.",
    )
    parser.add_argument("--keep-alive", type=int, default=None,
                        help="seconds without requests before the model is unloaded (0: never; default c.TinyAI.keep_alive)")
    parser.add_argument("--idle-exit", type=int, default=None,
                        help="seconds without requests before the host exits (0: never; default c.TinyAI.host_idle_exit)")
    parser.add_argument("--port", type=int, default=None,
                        help="also listen on 127.0.0.1:PORT with a bearer token (OpenAI-compatible /v1)")
    args = parser.parse_args(argv)
    from ..config import load_settings
    from .server import run

    settings = load_settings()
    keep_alive = settings.keep_alive if args.keep_alive is None else args.keep_alive
    idle_exit = settings.host_idle_exit if args.idle_exit is None else args.idle_exit
    return run(keep_alive, idle_exit, args.port)


if __name__ == "__main__":
    sys.exit(main())
