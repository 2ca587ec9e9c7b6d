"""Helpers of the browser tests: a real JupyterLab (started here, on a random port, with a token and a
temporary root), the real bundled model, Debian's Chromium driven by playwright-python.

Run from the repository root::

    python -m pytest labextension/ui-tests -x -q

Needs: the labextension built (``cd labextension && jlpm build``, or ``pip install .``),
``apt-get install chromium`` (or TINYAI_CHROMIUM=/path/to/chrome), ``pip install playwright``.
No browser is downloaded. Screenshots go to ``docs/`` when TINYAI_SCREENSHOTS=1.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
BUILT = REPO / "jupyter_tinyai" / "labextension"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT = 120


def chromium_path() -> str:
    for candidate in (os.environ.get("TINYAI_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and os.path.exists(candidate):
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is missing: apt-get install -y chromium (or set TINYAI_CHROMIUM)"
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _installed_labextension() -> bool:
    from jupyter_core.paths import jupyter_path

    return any(Path(p, "jupyter-tinyai", "package.json").exists() for p in jupyter_path("labextensions"))


def _host_available() -> bool:
    try:
        import jupyter_tinyai.host.client  # noqa: F401
    except ImportError:
        return False
    return True


class Lab:
    def __init__(self, url: str, token: str, root: Path, env: dict, process: subprocess.Popen, log: Path):
        self.url, self.token, self.root, self.env, self.process, self.log = url, token, root, env, process, log

    def api(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode()
            return json.loads(text) if text else None


# Recorded in the page before JupyterLab loads: chat WebSocket traffic and long tasks.
PROBE = r"""
(() => {
  const probe = (window.__tinyai = { sent: {}, firstToken: {}, longtasks: [], appear: [] });
  const Native = window.WebSocket;
  class Probed extends Native {
    constructor(...args) {
      super(...args);
      if (String(args[0]).includes('/tinyai/chat')) {
        this.addEventListener('message', event => {
          try {
            const m = JSON.parse(event.data);
            if (m.type === 'token' && !(m.id in probe.firstToken)) probe.firstToken[m.id] = performance.now();
          } catch (e) {}
        });
      }
    }
    send(data) {
      try {
        const m = JSON.parse(data);
        if (m.type === 'chat') { probe.sent[m.id] = performance.now(); probe.lastId = m.id; }
      } catch (e) {}
      return super.send(data);
    }
  }
  window.WebSocket = Probed;
  try {
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) probe.longtasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) {}
  // When answer text first appears on screen.
  new MutationObserver(() => {
    const nodes = document.querySelectorAll('.jp-TinyAI-message-assistant .jp-TinyAI-markdown');
    const last = nodes[nodes.length - 1];
    if (last && last.textContent.trim() && probe.appear.length < nodes.length) {
      probe.appear.push({ at: performance.now(), id: probe.lastId });
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
})();
"""


def new_page(browser, lab, color_scheme="light"):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=color_scheme)
    context.add_init_script(PROBE)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


_workspaces = itertools.count(1)


def open_lab(page, lab, path: str = ""):
    """Open JupyterLab, on the file `path` when given, in a workspace of its own.

    The server keeps the layout of the default workspace: there, a notebook another test left
    open is restored first, becomes the current tab, and locators of "the visible notebook"
    would drive it instead of `path`. A new workspace shows `path` alone (a reload keeps it)."""
    workspace = f"{lab.url}/lab/workspaces/tinyai-test-{next(_workspaces)}"
    target = f"{workspace}/tree/{path}?token={lab.token}" if path else f"{workspace}?token={lab.token}"
    page.goto(target)
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=120_000)
    page.wait_for_selector(".jp-LabShell", timeout=120_000)


def open_notebook(page, lab, path: str):
    """Open the notebook `path` alone (see open_lab) and wait until its kernel is idle; returns
    its panel. Cells run before that are dropped by JupyterLab (no kernel yet). The signs:
    `path` is the current tab, and the status bar, which shows the current tab's kernel, says
    Idle (the toolbar's execution indicator says 'idle' before any kernel exists)."""
    open_lab(page, lab, path)
    name = path.rsplit("/", 1)[-1]
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text=name).wait_for(timeout=120_000)
    page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).wait_for(timeout=120_000)
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def wait_until_idle(page):
    """Wait until the page has nothing left to do: every task queued so far (a click's
    navigation, an image's error handler, JupyterLab's start-up work) has run."""
    page.evaluate("() => new Promise(resolve => requestIdleCallback(() => resolve(), { timeout: 30000 }))")
