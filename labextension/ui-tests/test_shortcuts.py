"""Our keyboard shortcuts do not take keys that JupyterLab's own plugins use."""

from __future__ import annotations

import json
from pathlib import Path

from ui_helpers import HERE


def _keys(shortcut) -> str:
    return " ".join(shortcut["keys"]).lower()


def test_tinyai_shortcuts_are_free_in_jupyterlab():
    from jupyterlab.commands import get_app_dir

    ours = json.loads((HERE.parent / "schema" / "plugin.json").read_text())["jupyter.lab.shortcuts"]
    assert {s["command"] for s in ours} == {"tinyai:open-sidebar", "tinyai:explain-code"}
    schemas = Path(get_app_dir()) / "schemas"
    assert schemas.is_dir(), f"JupyterLab's schemas are missing in {schemas}"
    taken = {}
    for path in schemas.rglob("*.json"):
        try:
            data = json.loads(path.read_text())
        except ValueError:
            continue
        for shortcut in data.get("jupyter.lab.shortcuts", []) if isinstance(data, dict) else []:
            if shortcut.get("keys") and not shortcut.get("disabled"):
                taken.setdefault(_keys(shortcut), []).append(shortcut["command"])
    assert len(taken) > 100  # JupyterLab's own shortcuts were read
    for shortcut in ours:
        assert _keys(shortcut) not in taken, f"{shortcut['keys']} is already {taken[_keys(shortcut)]}"
