"""POST tinyai/complete against a real Jupyter server and the real bundled model: a notebook
and a cursor in, the completion out as JSON lines; refused without a token; bad requests
answered with what to do."""

from __future__ import annotations

import json

import pytest
import tornado.httpclient
from helpers.completions import fresh_completion
from tornado.httpclient import HTTPClientError

from jupyter_tinyai.completion.wire import notebook_kwargs

pytestmark = pytest.mark.model

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "source": "# Errors of a regression"},
        {"cell_type": "code", "source": "import numpy as np"},
        {"cell_type": "code", "source": "def mean_squared_error(y_true, y_pred):\n    ret"},
        {"cell_type": "code", "source": "print(mean_squared_error(np.array([1, 2]), np.array([1, 3])))"},
    ],
    "index": 2,
    "before": "def mean_squared_error(y_true, y_pred):\n    ret",
    "after": "",
    "recent": [1],
    "session": "notebook-1",
    "max_lines": 4,
}


def lines(response) -> list[dict]:
    return [json.loads(line) for line in response.body.decode().splitlines() if line.strip()]


async def test_a_notebook_cursor_gets_the_models_completion_as_json_lines(tinyai, jp_fetch):
    response = await jp_fetch("tinyai", "complete", method="POST", body=json.dumps(NOTEBOOK))
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    events = lines(response)
    text = "".join(e.get("text", "") for e in events)
    assert text.strip() and all(set(e) in ({"text"}, {"stats"}) for e in events)
    stats = events[-1]["stats"]
    assert stats["finish_reason"] in ("stop", "length", "cached") and stats["model"] == tinyai.model.id
    # the same request made to the engine directly (the server adds nothing of its own)
    wanted = fresh_completion(**notebook_kwargs(NOTEBOOK))
    assert text == wanted


async def test_without_a_token_it_is_refused(tinyai, jp_serverapp, jp_base_url, http_server_client):
    port = http_server_client.get_http_port()
    served = tinyai.completion.requests
    response = await tornado.httpclient.AsyncHTTPClient().fetch(
        f"http://127.0.0.1:{port}{jp_base_url}tinyai/complete", method="POST", body=json.dumps(NOTEBOOK),
        raise_error=False, request_timeout=30,
    )
    assert response.code in (401, 403) and b"text" not in response.body
    assert tinyai.completion.requests == served


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ("not json", 400, "not JSON"),
        ({**NOTEBOOK, "index": 9}, 400, "'index'"),
        ({**NOTEBOOK, "before": "   ", "cells": [{"cell_type": "code", "source": "   "}], "index": 0}, 400,
         "no code before the cursor"),
        ({**NOTEBOOK, "model": "no-such-model-anywhere"}, 404, "no-such-model-anywhere"),
    ],
)
async def test_bad_requests_say_what_to_do(tinyai, jp_fetch, body, code, words):
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("tinyai", "complete", method="POST", body=body if isinstance(body, str) else json.dumps(body))
    assert error.value.code == code
    assert words in json.loads(error.value.response.body)["message"]
