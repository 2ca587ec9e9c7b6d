"""The registry and the backends do not import each other: backends read model files through
jupyter_tinyai.formats and reach remote servers through jupyter_tinyai.remotes; the registry
asks backends.choice which backend runs a file, without importing a backend class."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str, prefixes: tuple[str, ...]) -> list[str]:
    script = f"import sys\n{code}\nprint('\\n'.join(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True).stdout
    return out.split()


def test_backends_do_not_import_the_model_registry():
    code = "\n".join(f"import jupyter_tinyai.backends.{name}" for name in
                     ("llamacpp", "mlx", "mlx_gguf", "offload", "remote", "choice", "chat_template"))
    assert _modules_after(code, ("jupyter_tinyai.models",)) == []


def test_listing_and_describing_models_imports_no_backend_class(model_path):
    code = ("from jupyter_tinyai.config import load_settings\n"
            "from jupyter_tinyai.models import list_models, resolve\n"
            "settings = load_settings(host='inprocess')\n"
            "assert list_models(settings, include_remote=False)\n"
            f"resolve({model_path!r}, settings)")
    assert _modules_after(code, ("jupyter_tinyai.backends", "llama_cpp", "mlx")) == [
        "jupyter_tinyai.backends", "jupyter_tinyai.backends.choice"]
