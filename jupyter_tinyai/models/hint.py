"""The tiny-model hint: while the bundled SmolLM2-135M is the only model, say once that it is
for trying things out, and name the catalog model to pull instead.

    from jupyter_tinyai.models.hint import tiny_model_hint
    hint = tiny_model_hint(settings)   # {"text": "...", "command": "jupyter tinyai pull ..."} or None

The CLI and the magics add it under the first answer of a session; the Jupyter server sends
it with GET tinyai/models (the sidebar's header shows it). Nothing here touches the network.
"""

from __future__ import annotations

from . import catalog
from .spec import human_size

#: the roles tried, in order, for the model to recommend (a question in a notebook is a chat)
ROLES = ("chat", "code")


def only_bundled(specs) -> bool:
    """True when every usable model listed is the bundled one (and there is one)."""
    usable = [s for s in specs if not s.warning]
    return bool(usable) and all(s.source == "bundled" for s in usable)


def tiny_model_hint(settings=None, specs=None, answered_by: str | None = None, budget=None) -> dict | None:
    """The hint while only the bundled model is present (``specs``: the listing, else the local
    one; ``answered_by``: the id of the model that answered, no hint when it is not the bundled
    one); None otherwise."""
    if settings is None:
        from ..config import load_settings

        settings = load_settings()
    if specs is None:
        if getattr(settings, "remotes", None):  # a configured remote is a better model
            return None
        from . import list_models

        specs = list_models(settings, include_remote=False)
    if not only_bundled(specs):
        return None
    bundled = next(s for s in specs if not s.warning)
    if answered_by is not None and answered_by != bundled.id:
        return None
    offers = catalog.recommend(settings, budget)
    pick = next((o for o in (catalog.best(offers, role) for role in ROLES) if o is not None), None)
    tiny = f"{bundled.name} is a tiny model for trying things out"
    if pick is None:
        return {"text": f"{tiny}; no catalog model fits this machine's memory, see what each needs with:",
                "command": "jupyter tinyai models --recommend"}
    return {
        "text": f"{tiny}; for real work get {pick.entry.title} "
                f"({human_size(pick.size_bytes)}, {pick.fit.badge} on this machine) with:",
        "command": pick.pull_command,
    }


def hint_line(hint: dict) -> str:
    """The hint as one line of text."""
    return f"{hint['text']} {hint['command']}"
