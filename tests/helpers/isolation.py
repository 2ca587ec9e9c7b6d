"""The environment of an isolated test home: config, data, runtime and model caches."""

from __future__ import annotations

#: variable -> sub-directory of the test home
DIRS = {
    "JUPYTER_CONFIG_DIR": "jupyter-config",
    "JUPYTER_DATA_DIR": "jupyter-data",
    "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
    "IPYTHONDIR": "ipython",
    "HF_HUB_CACHE": "hf-hub",
    "OLLAMA_MODELS": "ollama",
}


def isolated_env(home) -> dict:
    """Variables that put everything of jupyter_tinyai, Jupyter and IPython under ``home``
    (a pathlib.Path; the directories are made)."""
    env = {}
    for var, sub in DIRS.items():
        path = home / sub
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env["HOME"] = str(home)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    return env
