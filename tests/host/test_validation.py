"""Bad requests to a real host are refused at the door with a 400 that names the field:
out-of-range numbers on /tinyai/chat, /tinyai/load and the OpenAI-compatible port, and a
model "name" that is a file but not a model. Nothing is loaded for them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from helpers.hosts import serve_port

from jupyter_tinyai import errors

pytestmark = pytest.mark.timeout(120)

MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture
def port(capsys):
    """A real host listening on a loopback port: (base url without /v1, token)."""
    url, token = serve_port(capsys)
    return url[: -len("/v1")], token


def post(port, path, body: str):
    base, token = port
    request = urllib.request.Request(base + path, data=body.encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def status(port) -> dict:
    base, token = port
    request = urllib.request.Request(base + "/tinyai/status", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


# json.dumps writes NaN and Infinity, as Python's (and many other) JSON encoders do
BAD_VALUES = [
    ({"temperature": float("nan")}, "'temperature' must be a number from 0 to 2, not nan"),
    ({"temperature": float("inf")}, "'temperature' must be a number from 0 to 2, not inf"),
    ({"temperature": -0.5}, "'temperature' must be a number from 0 to 2"),
    ({"max_tokens": -5}, "'max_tokens' must be a whole number from 1 to 1,000,000, not -5"),
    ({"max_tokens": 10**12}, "'max_tokens' must be a whole number from 1 to 1,000,000"),
    ({"seed": "42"}, "'seed' must be a whole number from 0 to 4294967295"),
]


@pytest.mark.parametrize("stream", [False, True])
def test_openai_port_refuses_out_of_range_values(port, stream):
    for values, message in BAD_VALUES:
        code, body = post(port, "/v1/chat/completions",
                          json.dumps({"model": "default", "messages": MESSAGES, "stream": stream, **values}))
        assert code == 400, (values, body)
        error = json.loads(body)["error"]
        assert message in error["message"] and error["type"] == "bad_request", (values, error)
    code, body = post(port, "/v1/chat/completions", json.dumps({"messages": MESSAGES, "max_completion_tokens": 0}))
    assert code == 400 and "'max_tokens' must be" in body
    assert status(port)["model"] is None  # refused before anything was loaded


@pytest.mark.parametrize("stream", [False, True])
def test_openai_port_answers_400_for_a_file_that_is_not_a_model(port, stream):
    code, body = post(port, "/v1/chat/completions", json.dumps({"model": "/etc/passwd", "messages": MESSAGES, "stream": stream}))
    assert code == 400, body
    error = json.loads(body)["error"]
    assert error["type"] == "model_file" and "/etc/passwd" in error["message"] and "not a GGUF" in error["message"]


def test_tinyai_chat_and_load_refuse_bad_values_before_streaming(port):
    for values, message in BAD_VALUES:
        code, body = post(port, "/tinyai/chat", json.dumps({"prompt": "Hi", **values}))
        assert code == 400 and message in json.loads(body)["message"], (values, body)
    code, body = post(port, "/tinyai/chat", json.dumps({"prompt": "Hi", "model": "/etc/passwd"}))
    assert code == 400 and json.loads(body)["kind"] == "model_file", body
    code, body = post(port, "/tinyai/load", json.dumps({"model": "/etc/passwd"}))
    assert code == 400 and json.loads(body)["kind"] == "model_file", body
    code, body = post(port, "/tinyai/load", json.dumps({"settings": {"n_ctx": -1}}))
    assert code == 400 and "the setting 'n_ctx' must be a whole number at least 256, not -1" in body
    assert status(port)["model"] is None


def test_the_client_raises_the_hosts_400_as_an_invalid_request(client):
    with pytest.raises(errors.InvalidRequest, match="'temperature' must be a number from 0 to 2, not nan"):
        client.ask("Hi", temperature=float("nan"))


@pytest.mark.parametrize("error, code", [
    (errors.InvalidRequest("x"), 400), (errors.EmptyPrompt("x"), 400), (errors.ModelFileError("x"), 400),
    (errors.ModelNotFound("x"), 404), (errors.AmbiguousModel("x"), 404), (errors.RemoteError("x"), 502),
    (errors.InsufficientMemory("x"), 503), (errors.BackendUnavailable("x"), 503),
    (errors.GenerationError("x"), 500), (errors.HostError("x"), 500),
])
def test_every_error_kind_has_its_http_status(error, code):
    from jupyter_tinyai.host.handler import http_status

    assert http_status(error) == code


def test_every_host_route_on_the_port_needs_the_token_and_refuses_web_pages(port):
    """Each route the host serves (the completion, edit and model-event routes included) is
    refused on the TCP port without the bearer token (401), with a wrong one (401), and from
    a web page even with the right one (403); nothing runs for them."""
    from jupyter_tinyai.host.routes import ROUTES

    base, token = port
    for method, path in ROUTES:
        body = b"{}" if method == "POST" else None
        for headers, code in (({}, 401), ({"Authorization": "Bearer wrong"}, 401),
                              ({"Authorization": f"Bearer {token}", "Origin": "https://example.org"}, 403)):
            request = urllib.request.Request(base + path, data=body, method=method,
                                             headers={"Content-Type": "application/json", **headers})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=60)
            assert refused.value.code == code, f"{method} {path} with {headers} gave {refused.value.code}"
    assert status(port)["model"] is None  # none of them loaded anything
