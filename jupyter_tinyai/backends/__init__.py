"""Backends by name, imported only when a model needs one (no llama.cpp import at load time).

Backends read model files through :mod:`jupyter_tinyai.formats` and never import the model
registry (:mod:`jupyter_tinyai.models`); the registry asks :mod:`.choice` which backend runs a file.
"""

from __future__ import annotations

import importlib

from ..errors import BackendUnavailable

#: backend name -> "module:Class"
BACKENDS = {
    "llamacpp": "jupyter_tinyai.backends.llamacpp:LlamaCppBackend",
    "remote": "jupyter_tinyai.backends.remote:RemoteBackend",
    "mlx": "jupyter_tinyai.backends.mlx:MLXBackend",
}


def backend_class(name: str):
    try:
        module_name, class_name = BACKENDS[name].split(":")
    except KeyError:
        raise BackendUnavailable(
            f"unknown backend {name!r}; the backends are: {', '.join(sorted(BACKENDS))}."
        ) from None
    return getattr(importlib.import_module(module_name), class_name)
