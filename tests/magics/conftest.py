"""Real kernels for the magics tests, driven over the Jupyter protocol.

One kernel per test module (the model loads once in it): ``kernel.run(code)`` executes a
cell and returns its iopub messages and execute_reply, like a frontend would see them.
Kernels get their own home directory and ``TinyAI.host = 'inprocess'`` unless a test asks
for the default (host) path.
"""

from __future__ import annotations

import os
import queue
import time

import pytest
from helpers.isolation import isolated_env

TIMEOUT = 600  # generous: the CI machine may be shared and slow; never a timing assertion


def kernel_env(home) -> dict:
    env = {**os.environ, **isolated_env(home)}
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


class StopClicker:
    def __init__(self, kernel, after_updates: int):
        self.kernel, self.after_updates = kernel, after_updates
        self.stop, self.updates, self.clicked = None, 0, False

    def __call__(self, msg) -> None:
        if msg["msg_type"] == "comm_open" and msg["content"]["data"]["state"].get("description") == "Stop":
            self.stop = msg["content"]["comm_id"]
        if msg["msg_type"] == "update_display_data" and "text/markdown" in msg["content"]["data"]:
            self.updates += 1
            if self.updates >= self.after_updates and self.stop and not self.clicked:
                self.kernel.click(self.stop)
                self.clicked = True


class Cell:
    """What a frontend saw for one executed cell."""

    def __init__(self, messages, reply):
        self.messages = messages
        self.reply = reply

    @property
    def status(self) -> str:
        return self.reply["content"]["status"]

    def of_type(self, *types):
        return [m for m in self.messages if m["msg_type"] in types]

    @property
    def stdout(self) -> str:
        return "".join(m["content"]["text"] for m in self.of_type("stream") if m["content"]["name"] == "stdout")

    @property
    def errors(self):
        return [m["content"] for m in self.of_type("error")]

    def answer_updates(self):
        """Every update of the answer's display, in order (the last may show it again, alone,
        after a clear_output: see jupyter_tinyai/magics/tidy.py)."""
        first = next(m for m in self.of_type("display_data") if "text/markdown" in m["content"]["data"])
        display_id = first["content"]["transient"]["display_id"]
        return [
            m["content"] for m in self.of_type("display_data", "update_display_data")
            if m is not first and m["content"].get("transient", {}).get("display_id") == display_id
        ]

    def final_answer(self):
        return self.answer_updates()[-1]


class Kernel:
    def __init__(self, km, kc):
        self.km = km
        self.kc = kc

    def run(self, code: str, on_message=None, timeout: float = TIMEOUT) -> Cell:
        msg_id = self.kc.execute(code)
        messages = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"cell did not finish in {timeout} s: {code[:60]!r}")
            try:
                msg = self.kc.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                continue
            mine = msg["parent_header"].get("msg_id") == msg_id
            if not mine and msg["msg_type"] not in ("comm_open", "comm_msg"):
                continue
            messages.append(msg)
            if on_message is not None:
                on_message(msg)
            if mine and msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        while True:
            reply = self.kc.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                return Cell(messages, reply)

    def wait_for(self, predicate, timeout: float = TIMEOUT) -> list:
        """iopub messages (of any parent) until ``predicate(msg)`` is true, e.g. after a click."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                continue
            seen.append(msg)
            if predicate(msg):
                return seen
        raise TimeoutError(f"no matching message in {timeout} s")

    def send_comm(self, comm_id: str, data: dict) -> None:
        self.kc.shell_channel.send(self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data}))

    def click(self, comm_id: str) -> None:
        """What JupyterLab sends when a widget button is clicked."""
        self.send_comm(comm_id, {"method": "custom", "content": {"event": "click"}})

    def stop_clicker(self, after_updates: int = 2) -> StopClicker:
        """An iopub handler for ``run``: clicks the answer's Stop button once
        ``after_updates`` display updates have streamed, while the kernel is busy."""
        return StopClicker(self, after_updates)

    def value(self, expression: str):
        cell = self.run(f"print(repr({expression}))")
        assert cell.status == "ok", cell.errors
        import ast

        return ast.literal_eval(cell.stdout.strip())


def start_kernel(home, inprocess: bool = True, load: bool = True) -> Kernel:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", env=kernel_env(home), startup_timeout=120)
    kernel = Kernel(km, kc)
    if not load:
        return kernel
    setup = "%load_ext jupyter_tinyai"
    if inprocess:
        setup += "\n%config TinyAI.host = 'inprocess'"
    cell = kernel.run(setup)
    assert cell.status == "ok", cell.errors
    return kernel


def stop_kernel(kernel: Kernel) -> None:
    kernel.kc.stop_channels()
    kernel.km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A real ipykernel with the magics loaded and the model in the kernel's process."""
    kernel = start_kernel(tmp_path_factory.mktemp("kernel-home"))
    yield kernel
    stop_kernel(kernel)


@pytest.fixture
def new_kernel(tmp_path_factory):
    """Start extra kernels in a test: ``new_kernel(inprocess=..., load=...)``; all are stopped after."""
    started = []

    def start(**kwargs) -> Kernel:
        kernel = start_kernel(tmp_path_factory.mktemp("kernel-home"), **kwargs)
        started.append(kernel)
        return kernel

    yield start
    for kernel in started:
        stop_kernel(kernel)
