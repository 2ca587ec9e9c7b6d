"""The host's OpenAI-compatible port passes a model's reasoning on apart, as
``reasoning_content`` (what llama.cpp's server and vLLM send), streamed or not, and never in
``content``. The model behind it is a scripted remote that reasons (the transport is what is
under test), configured in the host's own config file."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest
from helpers.hosts import serve_port

from jupyter_tinyai import cli

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def served(isolated_home, capsys):
    from remote.test_remote_reasoning import ReasoningRemote

    remote = ReasoningRemote("reasoning_content")
    with open(os.path.join(os.environ["JUPYTER_CONFIG_DIR"], "jupyter_tinyai_config.json"), "w") as f:
        json.dump({"TinyAI": {"remotes": {"lab": {"url": remote.url}}}}, f)
    url, token = serve_port(capsys)
    yield url, token
    cli.main(["serve", "--stop"])
    remote.httpd.shutdown()


def post(served, stream: bool) -> bytes:
    url, token = served
    body = {"model": "lab:m1", "messages": [{"role": "user", "content": "2 + 2?"}], "stream": stream}
    request = urllib.request.Request(url + "/chat/completions", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def test_reasoning_is_passed_on_apart(served):
    message = json.loads(post(served, stream=False))["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "4", "reasoning_content": "Two plus two."}

    deltas = [json.loads(line[6:])["choices"][0]["delta"] for line in post(served, stream=True).decode().splitlines()
              if line.startswith("data: {")]
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "Two plus two."
    assert "".join(d.get("content", "") for d in deltas) == "4"
    assert deltas[0]["role"] == "assistant" and sum("role" in d for d in deltas) == 1
