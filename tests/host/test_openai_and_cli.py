"""`jupyter tinyai serve --port` with a real OpenAI client, and the host in `status`."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import openai
import pytest
from helpers.hosts import serve_port

from jupyter_tinyai import cli
from jupyter_tinyai.host import liveness, runtime

PROMPT = "What is the capital of France?"


@pytest.fixture
def served(capsys):
    url, token = serve_port(capsys)
    return url, token


@pytest.mark.model
def test_an_openai_client_uses_the_resident_model(served, expected):
    url, token = served
    assert url.startswith("http://127.0.0.1:")
    client = openai.OpenAI(base_url=url, api_key=token, max_retries=0, timeout=300)
    ids = [m.id for m in client.models.list().data]
    assert "llamacpp:SmolLM2-135M-Instruct-Q4_1" in ids
    messages = [{"role": "user", "content": PROMPT}]
    reply = client.chat.completions.create(model=ids[0], messages=messages)
    assert reply.choices[0].message.content == expected(PROMPT)
    assert reply.choices[0].finish_reason == "stop" and reply.usage.completion_tokens > 0
    stream = client.chat.completions.create(model="default", messages=messages, stream=True)
    parts = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert "".join(parts) == expected(PROMPT)
    follow = messages + [{"role": "assistant", "content": reply.choices[0].message.content},
                         {"role": "user", "content": "And of Germany?"}]
    second = client.chat.completions.create(model="default", messages=follow, max_tokens=30)
    assert "Berlin" in second.choices[0].message.content
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="default", messages=[])
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=messages)


def test_the_port_needs_the_token_and_refuses_web_pages(served):
    url, token = served
    bad = openai.OpenAI(base_url=url, api_key="wrong", max_retries=0, timeout=60)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    request = urllib.request.Request(url + "/models", headers={"Authorization": f"Bearer {token}",
                                                               "Origin": "http://evil.example"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=60)
    assert caught.value.code == 403
    info = runtime.read_info()
    assert info["token"] == token  # kept in the user-only runtime file


@pytest.mark.model
def test_status_shows_the_host(capsys, client):
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "host:     not running" in out and "model unloads after 10 min idle" in out
    client.ask(PROMPT, max_tokens=8)
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    pid = runtime.read_info()["pid"]
    assert f"host:     pid {pid}" in out and "queue:    idle · 0 waiting" in out
    assert "backend:  llamacpp · CPU, " in out  # where the model runs
    assert "host exits after 60 min idle (in " in out
    assert cli.main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["host"]["pid"] == pid
    assert cli.main(["serve", "--stop"]) == 0
    assert "stopped" in capsys.readouterr().out
    assert liveness.running_host() is None
