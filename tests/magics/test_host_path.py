"""The magics through the default client: the background host process when the build has it."""

from __future__ import annotations

import importlib.util

import pytest
from helpers.hosts import hosts_of

pytestmark = pytest.mark.model

HAS_HOST = importlib.util.find_spec("jupyter_tinyai.host.client") is not None


def test_ask_and_stop_through_the_default_client(new_kernel):
    kernel = new_kernel(inprocess=False)
    client_class = kernel.value("type(get_ipython().magics_manager.registry['TinyAIMagics'].session.client).__name__")
    try:
        assert client_class == ("HostClient" if HAS_HOST else "Engine")
        cell = kernel.run("%%ask --max-tokens 16\nWhat is the capital of France?")
        assert cell.status == "ok", cell.errors
        assert len(cell.answer_updates()) >= 2
        final = cell.final_answer()
        assert "Paris" in final["data"]["text/markdown"]
        assert final["metadata"]["jupyter_tinyai"]["backend"] == "llamacpp"

        on_message = kernel.stop_clicker()

        cell = kernel.run("%%ask --new --max-tokens 400\nWrite a long story about a lighthouse keeper.", on_message)
        assert on_message.clicked and cell.status == "ok", cell.errors
        meta = cell.final_answer()["metadata"]["jupyter_tinyai"]
        assert meta["stopped"] is True and 0 < meta["generated_tokens"] < 400
        again = kernel.run("%ask --max-tokens 6 Name a colour.")
        assert again.status == "ok", again.errors
    finally:
        if HAS_HOST:
            kernel.run("get_ipython().magics_manager.registry['TinyAIMagics'].session.client.shutdown()")


def test_the_conversation_survives_a_new_host(new_kernel):
    """The host went away (killed, crashed, or it exited after c.TinyAI.host_idle_exit):
    the next %ask still follows up on the kernel's earlier turns."""
    kernel = new_kernel(inprocess=False)
    client = "get_ipython().magics_manager.registry['TinyAIMagics'].session.client"
    try:
        first = kernel.run("%%ask --max-tokens 8\nWhat is the capital of France?")
        assert first.status == "ok", first.errors
        kernel.run(f"{client}.shutdown()")  # the host is gone, and its conversations with it
        again = kernel.run("%ask --max-tokens 6 And of Italy?")
        assert again.status == "ok", again.errors
        roles = kernel.value(f"[m.role for m in {client}.history(get_ipython().magics_manager.registry['TinyAIMagics'].session.conversation)]")
        assert roles == ["user", "assistant", "user", "assistant"]
        assert "What is the capital of France?" in kernel.run("%tinyai history").stdout

        runtime = kernel.value("__import__('os').environ['JUPYTER_RUNTIME_DIR']")
        killed = []

        def kill_the_host(msg):  # mid-answer: the cell fails, the earlier turns stay
            if msg["msg_type"] == "update_display_data" and not killed:
                killed.extend(hosts_of(runtime))
                for proc in killed:
                    proc.kill()

        broken = kernel.run("%%ask --max-tokens 400\nWrite a long story about a lighthouse keeper.", kill_the_host)
        assert killed and broken.status == "error"
        kernel.run("%ask --max-tokens 6 And of Spain?")
        roles = kernel.value(f"[m.role for m in {client}.history(get_ipython().magics_manager.registry['TinyAIMagics'].session.conversation)]")
        assert roles == ["user", "assistant"] * 3
    finally:
        kernel.run(f"{client}.shutdown()")


def test_an_answer_stopped_while_it_waits_in_the_queue_says_so(new_kernel):
    """Interrupted while another client's answer holds the model: no queue notice left as
    the answer, no figures of an answer that never ran."""
    import subprocess
    import sys

    kernel = new_kernel(inprocess=False)
    client = "get_ipython().magics_manager.registry['TinyAIMagics'].session.client"
    env = kernel.value("dict(__import__('os').environ)")
    busy = None
    try:
        assert kernel.run("%ask --max-tokens 2 hi").status == "ok"  # the host is up, its model loaded
        busy = subprocess.Popen([sys.executable, "-m", "jupyter_tinyai.cli", "ask", "-q", "--max-tokens", "4000",
                                 "Write a very long story about a dragon."], env=env, stdout=subprocess.PIPE)
        assert busy.stdout.read(8), "the other client is being answered"
        interrupted = []

        def interrupt_when_queued(msg):
            data = msg["content"].get("data", {})
            if "waiting for 1 earlier request" in data.get("text/plain", "") and not interrupted:
                interrupted.append(True)
                kernel.km.interrupt_kernel()

        cell = kernel.run("%ask What is 2+2?", interrupt_when_queued)
        assert interrupted and cell.status == "error"
        assert [e["evalue"] for e in cell.errors] == ["the answer was interrupted before it began."]
        final = cell.final_answer()["data"]["text/plain"]
        assert "waiting for" not in final and "prompt +" not in final
        assert final.strip() == "stopped"
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
        kernel.run(f"{client}.shutdown()")
