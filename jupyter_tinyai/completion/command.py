"""``jupyter tinyai complete``: the code that goes between a prefix and a suffix, alone on
stdout, for editors and scripts.

    jupyter tinyai complete before.py --suffix after.py --max-tokens 32
    printf 'def mean(xs):\\n    return ' | jupyter tinyai complete -
"""

from __future__ import annotations

import sys

from ..errors import InvalidRequest


def _read(path: str, what: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise InvalidRequest(f"cannot read the {what} file {path!r}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise InvalidRequest(f"the {what} file {path!r} is not UTF-8 text.") from None


def cmd_complete(args) -> int:
    from ..api import make_client
    from ..config import load_settings

    if args.prefix_file == "-" and args.suffix == "-":
        raise InvalidRequest("only one of the prefix and the suffix can come from stdin (-).")
    prefix = _read(args.prefix_file, "prefix")
    suffix = _read(args.suffix, "suffix") if args.suffix else ""
    client = make_client(load_settings(host="inprocess" if args.in_process else None))
    out = sys.stdout
    for chunk in client.complete(prefix, suffix, model=args.model, max_tokens=args.max_tokens,
                                 max_lines=args.max_lines, time_budget=args.time_budget, session="cli"):
        if chunk.text:
            out.write(chunk.text)
            out.flush()
        if chunk.stats is not None and args.verbose:
            print(f"\n[{chunk.stats.summary()}]", file=sys.stderr)
    return 0


def add_complete(sub) -> None:
    """Register ``jupyter tinyai complete`` on the CLI's subparsers."""
    complete = sub.add_parser(
        "complete",
        help="complete code between a prefix and a suffix (the completion alone on stdout)",
        description="Print the code the completion model puts between PREFIX_FILE's text and the suffix's, "
        "alone on stdout (no newline added), for editors and scripts. Model: -m, else c.TinyAI.completion_model, "
        "else the smallest fill-in-the-middle model on disk, else the chat model.",
    )
    complete.add_argument("prefix_file", metavar="PREFIX_FILE", help="the code before the cursor; - reads it from stdin")
    complete.add_argument("--suffix", metavar="SUFFIX_FILE", help="the code after the cursor (- reads it from stdin)")
    complete.add_argument("--max-tokens", type=int, metavar="N", help="longest completion, in tokens (default c.TinyAI.completion_max_tokens)")
    complete.add_argument("--max-lines", type=int, metavar="N", help="longest completion, in lines (default c.TinyAI.completion_max_lines)")
    complete.add_argument("--time-budget", type=float, metavar="S", help="seconds until generation stops (default c.TinyAI.completion_time_budget)")
    complete.add_argument("-m", "--model", help="the completion model: an id, a short part of one, or a GGUF path")
    complete.add_argument("--in-process", action="store_true", help="load the model in this process instead of the shared host")
    complete.add_argument("-v", "--verbose", action="store_true", help="the figures line on stderr")
    complete.set_defaults(func=cmd_complete)
