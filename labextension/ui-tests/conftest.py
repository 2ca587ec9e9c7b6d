"""Fixtures of the browser tests (see ui_helpers.py for how to run them)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the suite runs with --import-mode=importlib
sys.path.insert(1, str(Path(__file__).resolve().parents[2] / "tests"))  # helpers.fake_hub

from ui_helpers import (
    BUILT,
    CHROMIUM_ARGS,
    START_TIMEOUT,
    Lab,
    _free_port,
    _host_available,
    _installed_labextension,
    chromium_path,
)


@pytest.fixture(scope="session")
def fake_hub():
    """The Hugging Face Hub of the lab below (HF_ENDPOINT): a local stand-in on loopback,
    serving what a test adds to it (tests/helpers/fake_hub.py)."""
    from helpers.fake_hub import FakeHub

    hub = FakeHub().start()
    yield hub
    hub.stop()


@pytest.fixture(scope="session")
def lab(tmp_path_factory, fake_hub):
    """A running JupyterLab with the TinyAI server extension and labextension."""
    base = tmp_path_factory.mktemp("lab")
    root, home = base / "root", base / "home"
    dirs = {name: home / name for name in ("config", "data", "runtime")}
    for path in [root, home, *dirs.values()]:
        path.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTER_PLATFORM_DIRS="1",
        JUPYTER_PREFER_ENV_PATH="0",  # in a venv, its copy of the labextension would win over the tree's build
        IPYTHONDIR=str(home / "ipython"),
        HF_HUB_CACHE=str(home / "hf"),
        OLLAMA_MODELS=str(home / "ollama"),
        HF_ENDPOINT=fake_hub.url,  # pulls ask the local stand-in, never the network
    )
    if (BUILT / "package.json").exists():  # the tree's build wins over an installed copy
        (dirs["data"] / "labextensions").mkdir()
        (dirs["data"] / "labextensions" / "jupyter-tinyai").symlink_to(BUILT)
        env["JUPYTER_PREFER_ENV_PATH"] = "0"  # in a venv, its installed copy would win over this build
    else:
        assert _installed_labextension(), (
            "the labextension is not built: run `cd labextension && jlpm install && jlpm build` (or `pip install .`)"
        )
    host = "auto" if _host_available() and os.environ.get("TINYAI_UI_HOST", "") != "inprocess" else "inprocess"
    token = secrets.token_hex(16)
    port = _free_port()
    (dirs["config"] / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {"jpserver_extensions": {"jupyter_tinyai": True}},
                "TinyAI": {"host": host},
                "LabApp": {
                    "news_url": None,
                    "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                    "extension_manager": "readonly",
                    "expose_app_in_browser": True,  # window.jupyterapp: tests run commands with arguments
                },
            }
        )
    )
    labconfig = dirs["config"] / "labconfig"
    labconfig.mkdir()
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    log = base / "lab.log"
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI
        command.append("--allow-root")
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(root))
    url = f"http://127.0.0.1:{port}"
    lab = Lab(url, token, root, env, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            lab.api("GET", "/api/status")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("JupyterLab did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.3)
    yield lab
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    if host == "auto":  # stop the background host this test started (in its own runtime dir)
        subprocess.run(
            [sys.executable, "-m", "jupyter_tinyai.cli", "serve", "--stop"],
            env=env, timeout=60, capture_output=True, check=False,
        )


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


