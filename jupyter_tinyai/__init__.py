"""jupyter_tinyai: ask a language model running on this machine, from Jupyter.

The public API is small::

    import jupyter_tinyai as tinyai
    tinyai.ask("What is the capital of France?")
"""

from ._version import __version__

__all__ = ["__version__", "ask", "chat", "explain", "list_models", "load"]


def _client():
    from .api import default_client

    return default_client()


def ask(prompt: str, **kwargs) -> str:
    """The whole answer to ``prompt`` (see ``chat`` for the options)."""
    return _client().ask(prompt, **kwargs)[0]


def chat(prompt: str, **kwargs):
    """Stream the answer to ``prompt`` as chunks (``chunk.text``; the last has ``stats``)."""
    return _client().chat(prompt, **kwargs)


def explain(code: str, **kwargs) -> str:
    """An explanation of ``code``."""
    from .prompts import explain_prompt

    return ask(explain_prompt(code), **kwargs)


def list_models():
    """Every model found on this machine (and configured remotes)."""
    return _client().list_models()


def load(model: str | None = None):
    """Load ``model`` (default: the configured one) and return its description."""
    return _client().load(model)


def _jupyter_server_extension_points():
    """The Jupyter server extension (the sidebar's REST and WebSocket endpoints)."""
    return [{"module": "jupyter_tinyai.server"}]


def load_ipython_extension(ip):
    """``%load_ext jupyter_tinyai``: the %%ask, %explain and %tinyai magics."""
    from .magics import load_ipython_extension as load_magics

    load_magics(ip)


def unload_ipython_extension(ip):
    from .magics import unload_ipython_extension as unload_magics

    unload_magics(ip)


def _jupyter_labextension_paths():
    """The prebuilt JupyterLab extension (for `jupyter labextension develop`; a wheel
    installs it under share/jupyter/labextensions/jupyter-tinyai)."""
    return [{"src": "labextension", "dest": "jupyter-tinyai"}]
