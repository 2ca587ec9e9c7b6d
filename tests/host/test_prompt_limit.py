"""The host refuses a prompt far beyond the context window at the door (our endpoint and
the OpenAI-compatible one), before queueing it or loading a model."""

from __future__ import annotations

import openai
import pytest
from helpers.hosts import serve_port

from jupyter_tinyai.errors import PromptTooLong
from jupyter_tinyai.prompts import max_prompt_chars


def test_a_huge_prompt_is_refused_by_the_host_before_anything_runs(client, settings, capsys):
    limit = max_prompt_chars(settings.n_ctx)
    with pytest.raises(PromptTooLong, match=f"{limit:,} allowed.*Send less"):
        list(client.chat("x" * (limit + 1), conversation="huge"))
    status = client.status()
    assert status["host"]["running"] and status["model"] is None  # nothing was loaded for it
    assert client.history("huge") == []

    url, token = serve_port(capsys)
    openai_client = openai.OpenAI(base_url=url, api_key=token, max_retries=0, timeout=120)
    with pytest.raises(openai.BadRequestError, match="Send less"):
        openai_client.chat.completions.create(model="default", messages=[{"role": "user", "content": "y" * (limit + 1)}])
    assert client.status()["model"] is None
