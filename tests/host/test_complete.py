"""Completions through a real host with the bundled model: served beside the queue (never
behind a chat answer), a new request of a session cancels the stale one, a chat answer and
completions at once are both whole and right, bad requests answered with what to do."""

from __future__ import annotations

import threading
import uuid

import pytest
from helpers.completions import fresh_completion

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.errors import EmptyPrompt, HostError, InvalidRequest, ModelNotFound
from jupyter_tinyai.host.client import HostClient
from jupyter_tinyai.types import collect

pytestmark = pytest.mark.model

PREFIX = "import numpy as np\n\n\ndef mean_squared_error(y_true, y_pred):\n    \"\"\"The mean of the squared errors.\"\"\"\n    ret"
SUFFIX = "\n\n\nprint(mean_squared_error(np.array([1, 2]), np.array([1, 3])))\n"
LONG = "# a list of the first hundred prime numbers\nprimes = [2, 3, 5, 7, 11, 13,"
STORY = "Write a short story about a cat who learns to code."
#: no time budget to speak of: these tests compare texts, which must not depend on the machine's speed
SLOW_OK = 120.0


def complete(client, prefix=PREFIX, suffix=SUFFIX, **kwargs):
    kwargs.setdefault("time_budget", SLOW_OK)
    kwargs.setdefault("session", uuid.uuid4().hex)
    return collect(client.complete(prefix, suffix, **kwargs))


def test_the_host_completes_as_the_engine_does(client):
    text, stats = complete(client, max_tokens=16)
    alone = fresh_completion(PREFIX, SUFFIX, max_tokens=16, time_budget=SLOW_OK)
    assert text.strip() and text == alone
    assert stats.finish_reason in ("stop", "length") and stats.prompt_tokens > 40
    again, cached = complete(client, max_tokens=16)
    assert again == text and cached.finish_reason == "cached"
    assert client.status()["completion"]["requests"] >= 1


def test_a_completion_does_not_wait_behind_a_chat_answer(client, settings, monkeypatch):
    monkeypatch.setenv("TINYAI_TEST_FAULT", "slow-load:600")  # the chat's model load holds the queue
    result = {}

    def chat_answer():
        try:
            result["chat"] = collect(client.chat(STORY, max_tokens=8))
        except HostError:  # the host is stopped at the end of the test, still loading
            pass

    chat = threading.Thread(target=chat_answer, daemon=True)
    chat.start()
    other = HostClient(settings)
    while not other.status()["host"].get("busy"):  # the chat has the host's turn
        threading.Event().wait(0.05)
    text, stats = complete(other, max_tokens=8)
    assert text.strip() and stats.finish_reason in ("stop", "length")
    assert other.status()["host"]["busy"] and "chat" not in result, "the chat answer still holds the queue"


def test_a_new_request_of_a_session_cancels_the_stale_one(client):
    session = uuid.uuid4().hex
    stale = client.complete(LONG, "", max_tokens=400, max_lines=50, time_budget=SLOW_OK, session=session)
    assert next(stale).text is not None  # the stale request is under way
    fresh_text, fresh = complete(client, prefix=LONG + " 17", suffix="", max_tokens=8, session=session)
    _, stale_stats = collect(stale)
    assert stale_stats.finish_reason == "cancelled" and stale_stats.generated_tokens < 400
    assert fresh_text and fresh.finish_reason in ("stop", "length")


def test_a_chat_answer_and_completions_at_once_are_both_whole(client, settings, expected):
    wanted = expected(STORY, max_tokens=120)
    alone, _ = complete(client, max_tokens=16)
    result = {}
    chat = threading.Thread(target=lambda: result.update(chat=collect(client.chat(STORY, max_tokens=120, conversation="c"))))
    chat.start()
    other = HostClient(settings)
    texts = [complete(other, prefix=PREFIX + " " * i, suffix=SUFFIX, max_tokens=16)[0] for i in range(3)]
    chat.join(300)
    assert result["chat"][0] == wanted, "the chat answer is not disturbed"
    assert texts[0] == alone and all(t.strip() for t in texts), "nor are the completions"


def test_bad_requests_say_what_to_do(client):
    with pytest.raises(EmptyPrompt, match="no code before the cursor"):
        complete(client, prefix="  \n", suffix="print(1)")
    with pytest.raises(InvalidRequest, match="max_lines"):
        complete(client, max_lines=0)
    with pytest.raises(ModelNotFound):
        complete(client, model="no-such-model-anywhere")
    chosen = HostClient(load_settings(host="auto", completion_model="no-such-coder-anywhere"))
    with pytest.raises(ModelNotFound, match="no-such-coder-anywhere"):  # the client's own completion model
        complete(chosen)
    huge = "\n".join(f"x{i} = {i}" for i in range(20_000))  # far beyond the completion context
    text, stats = complete(client, suffix="\n" + huge, max_tokens=4)
    assert stats.prompt_tokens <= client.settings.completion_n_ctx


def test_the_openai_port_answers_completions_with_a_suffix(client, capsys):
    import re

    import openai

    from jupyter_tinyai import cli

    assert cli.main(["serve", "--port", "0"]) == 0
    out = capsys.readouterr().out
    url, token = re.search(r"API: (\S+)", out).group(1), re.search(r"shown once: (\S+)", out).group(1)
    api = openai.OpenAI(base_url=url, api_key=token, max_retries=0, timeout=300)
    wanted = fresh_completion(PREFIX, SUFFIX, max_tokens=16, time_budget=SLOW_OK)
    reply = api.completions.create(model="default", prompt=PREFIX, suffix=SUFFIX, max_tokens=16,
                                   extra_body={"time_budget": SLOW_OK})
    assert reply.choices[0].text == wanted and wanted.strip()
    assert reply.choices[0].finish_reason in ("stop", "length") and reply.usage.prompt_tokens > 40
    stream = api.completions.create(model="default", prompt=[PREFIX + "urn"], suffix=SUFFIX, max_tokens=8,
                                    stream=True, extra_body={"time_budget": SLOW_OK})
    assert "".join(c.choices[0].text for c in stream if c.choices).strip()
    with pytest.raises(openai.BadRequestError, match="no code before the cursor"):
        api.completions.create(model="default", prompt="  ", suffix=SUFFIX)
    with pytest.raises(openai.NotFoundError):
        api.completions.create(model="no-such-model-anywhere", prompt=PREFIX)
