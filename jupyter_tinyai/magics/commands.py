"""``%tinyai`` subcommands, dispatched from :data:`COMMANDS`."""

from __future__ import annotations

import os

from .display import MessageError


def _print(text: str) -> None:
    print(text)


def models(session, args):
    """The models found on this machine."""
    from ..models.spec import human_size

    client = session.client
    current = session.chosen_id()
    rows, warnings = [], []
    for spec in client.list_models():
        if spec.warning:
            warnings.append(f"warning: {spec.warning}")
            continue
        mark = "*" if spec.id == current else " "
        size = human_size(spec.size_bytes) if spec.size_bytes else ""
        rows.append(f"{mark} {spec.id:<50} {size:>9} {spec.quantization:<8} {spec.source}")
    _print("\n".join((rows or ["no models found: see `jupyter tinyai models`."]) + warnings))


def use(session, args):
    """Use (and load) another model."""
    if len(args) != 1:
        raise MessageError("write %tinyai use NAME (see %tinyai models).", "usage")
    import sys

    from ..progress import ProgressLine

    name = args[0]
    is_path = os.path.exists(os.path.expanduser(name))
    if is_path:  # a file or folder the user just made: remember it
        from ..models.added import add_model

        notices: list[str] = []  # a damaged list of added models, set aside
        name = add_model(name, session.settings, notices).path
        for notice in notices:
            _print(f"warning: {notice}")
    spec = session.client.load(name, progress=ProgressLine(sys.stdout))
    session.model = name if is_path else spec.id  # this kernel's chosen model, for every answer without -m
    _print(f"using {spec.id}")


def status(session, args):
    """Loaded model, memory, the last answer (the lines of ``jupyter tinyai status``)."""
    from ..status import status_lines

    _print("\n".join(status_lines(session.client.status()) + [f"conversation: {session.conversation}"]))


def history(session, args):
    """This kernel's conversation, as sent to the model."""
    session.restore(session.conversation)
    messages = session.client.history(session.conversation)
    if not messages:
        _print("the conversation is empty.")
        return
    _print("\n\n".join(f"--- {m.role} ---\n{m.content}" for m in messages))


def reset(session, args):
    """Forget this kernel's conversation."""
    session.client.reset(session.conversation)
    session.forget(session.conversation)
    session.new_conversation()
    _print("the conversation is forgotten; the next %%ask starts a new one.")


def unload(session, args):
    """Free the model's memory."""
    session.client.unload()
    _print("the model is unloaded; it loads again on the next question.")


def config(session, args):
    """The settings in effect."""
    settings = session.settings
    names = sorted(settings.trait_names(config=True))
    lines = [f"TinyAI.{name} = {getattr(settings, name)!r}" for name in names if name != "system_prompt"]
    lines.append(f"TinyAI.system_prompt = {settings.system_prompt[:60]!r}…")
    lines.append("change one with %config TinyAI.NAME = VALUE (see %config TinyAI for help).")
    _print("\n".join(lines))


def autoexplain(session, args):
    """Offer "Explain this error" under every traceback."""
    choices = {"on": True, "off": False}
    if len(args) != 1 or args[0] not in choices:
        raise MessageError("write %tinyai autoexplain on, or %tinyai autoexplain off.", "usage")
    session.autoexplain = choices[args[0]]
    _print(f"autoexplain is {args[0]}.")


def pull(session, args):
    """Download a model (progress bar with Cancel)."""
    from .catalog_widget import pull as start

    start(session, args)


def catalog(session, args):
    """The catalog with fit badges and Download buttons."""
    from .catalog_widget import show_catalog

    show_catalog(session, args)


COMMANDS = {
    "models": models,
    "use": use,
    "status": status,
    "history": history,
    "reset": reset,
    "unload": unload,
    "config": config,
    "autoexplain": autoexplain,
    "pull": pull,
    "catalog": catalog,
}
