"""The catalog's part of ``jupyter tinyai``: ``models --recommend``, ``pull`` and ``rm``."""

from __future__ import annotations

import json
import sys

from .spec import human_size


def cmd_recommend(args) -> int:
    """The catalog by role, with download size, memory needed here and a fit badge."""
    from ..cli import _settings, table
    from ..memory import memory_budget
    from . import catalog

    settings = _settings(args)
    budget = memory_budget()
    offers = catalog.recommend(settings, budget)
    best = {role: catalog.best(offers, role) for role in catalog.ROLES}
    if args.json:
        print(json.dumps({
            "machine": {"total_bytes": budget.total_bytes, "available_bytes": budget.available_bytes,
                        "gpu_working_set_bytes": budget.gpu_working_set_bytes, "usable_bytes": budget.usable_bytes},
            "n_ctx": settings.n_ctx,
            "models": [o.to_dict() for o in offers],
            "best": {role: (o.entry.name if o else None) for role, o in best.items()},
        }, indent=2))
        return 0
    gpu = f", GPU working set {human_size(budget.gpu_working_set_bytes)}" if budget.gpu_working_set_bytes else ""
    print(f"This machine: {human_size(budget.total_bytes)} of memory, {human_size(budget.available_bytes)} free{gpu}. "
          f"Memory needed is at a context of up to {settings.n_ctx} tokens (c.TinyAI.n_ctx).")
    for role in catalog.ROLES:
        rows = [
            [
                o.entry.name + (" *" if best[role] is o else ""),
                o.entry.params,
                f"MLX {o.quant}" if o.format == "mlx" else o.quant,
                ("~" if o.format == "mlx" else "") + human_size(o.size_bytes),
                ("~" if o.fit.kv_estimated else "") + human_size(o.fit.need_bytes),
                o.fit.badge,
                o.entry.license,
            ]
            for o in offers
            if role in o.entry.roles
        ]
        print(f"\n{role}:")
        print(table(["  NAME", "PARAMS", "QUANT", "DOWNLOAD", "NEEDS", "FIT", "LICENCE"],
                    [["  " + r[0]] + r[1:] for r in rows]))
    print("\n* the best fitting model for the role. To get it:")
    for role, offer in best.items():
        if offer is None:
            print(f"  {role:<10} nothing in the catalog fits this machine")
        else:
            print(f"  {role:<10} {offer.pull_command}")
    return 0


class _PullView:
    """Prints a pull's progress as one line on stderr."""

    def __init__(self, stream=None):
        from ..progress import ProgressLine

        self.line = ProgressLine(stream or sys.stderr, delay=0)
        self.last = None

    def __call__(self, progress) -> None:
        self.last = progress
        if progress.phase == "done":
            self.line(1.0, progress.message())
        else:
            self.line(min(progress.fraction, 0.999), progress.message())


def cmd_pull(args) -> int:
    from ..cli import _settings
    from ..errors import TinyAIError
    from .pull import pull_file

    view = _PullView()
    try:
        pulled = pull_file(args.name, args.quant, force=args.force, progress=view, settings=_settings(args),
                           fmt=args.format)
    except KeyboardInterrupt:
        view.line.end()
        last = view.last
        kept = f"{human_size(last.bytes_on_disk())} of {human_size(last.total)} are" if last else "what was downloaded is"
        print(f"stopped: {kept} kept in the Hugging Face cache; run `jupyter tinyai pull {args.name}` again to resume.",
              file=sys.stderr)
        return 130
    except TinyAIError:  # the error line goes under the progress line, not over it
        view.line.end()
        raise
    for note in pulled.notes:
        print(f"note: {note}", file=sys.stderr)
    f, spec = pulled.file, pulled.spec
    what = f"{f.repo_id}/{f.filename}" if f.filename else f.repo_id
    if pulled.already_present:
        print(f"{what} is already pulled ({human_size(f.size)}).")
    else:
        resumed = (f"; resumed at {human_size(pulled.resumed_from)}, fetched {human_size(pulled.fetched_bytes)}"
                   if pulled.resumed_from else "")
        print(f"pulled {what} ({human_size(f.size)}, {'SHA-256' if f.filename else 'checksums'} verified{resumed}).")
    print(f"It {pulled.fit.describe()}: {pulled.fit.badge} on this machine.")
    print(f"Use it with: jupyter tinyai ask -m {spec.id} \"...\"   or, in a notebook: %tinyai use {spec.id}")
    return 0


def cmd_rm(args) -> int:
    from .pull import removal

    plan = removal(args.name)
    print(f"{plan.what}: deleting {len(plan.files)} file{'s' if len(plan.files) != 1 else ''} frees "
          f"{human_size(plan.freed_bytes)}:")
    for path in plan.files:
        print(f"  {path}")
    if not args.yes:
        if not sys.stdin or not sys.stdin.isatty():
            print("error: not deleting without confirmation: run it in a terminal, or add -y.", file=sys.stderr)
            return 1
        try:
            answer = input("Delete? [y/N] ").strip().lower()
        except EOFError:  # Ctrl-D: no
            print()
            answer = ""
        if answer not in ("y", "yes"):
            print("nothing deleted")
            return 1
    plan.execute()
    print(f"deleted; {human_size(plan.freed_bytes)} freed")
    return 0


def add_commands(sub) -> None:
    """``pull`` and ``rm`` on the ``jupyter tinyai`` parser."""
    pull = sub.add_parser(
        "pull",
        help="download a model from the Hugging Face Hub (resumable, SHA-256 verified)",
        description="Download a GGUF model into the Hugging Face cache. NAME: a catalog name "
        "(see `jupyter tinyai models --recommend`), a Hub repo (org/name, optionally :QUANT) or "
        "org/name/file.gguf. Ctrl-C stops it; running it again resumes. HF_TOKEN and HF_ENDPOINT are honoured.",
    )
    pull.add_argument("name", metavar="NAME")
    pull.add_argument("--quant", metavar="Q", help="quantization to pull, e.g. Q8_0 (default: Q4_K_M, or the largest that fits)")
    pull.add_argument("--force", action="store_true", help="pull even a model too large for this machine")
    pull.add_argument("--format", choices=["gguf", "mlx"],
                      help="for a catalog model: its GGUF (llama.cpp) or its MLX build (default: MLX on Apple Silicon with mlx-lm installed)")
    pull.add_argument("--n-ctx", type=int, help="context size the memory check assumes (default c.TinyAI.n_ctx)")
    pull.set_defaults(func=cmd_pull, in_process=False)

    rm = sub.add_parser("rm", help="delete a pulled model from the Hugging Face cache",
                        description="Delete a pulled model (catalog name, org/name, org/name/file.gguf, or a model id "
                        "from `jupyter tinyai models`) through huggingface_hub's cache API, after saying what it frees.")
    rm.add_argument("name", metavar="NAME")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    rm.set_defaults(func=cmd_rm)
