"""One rule for a chat request, used by the host's /tinyai/chat, its OpenAI-compatible port
and the sidebar's WebSocket (their own tests send these through the real endpoints)."""

import pytest

from jupyter_tinyai.errors import EmptyPrompt, InvalidRequest, PromptTooLong
from jupyter_tinyai.types import ContextPiece
from jupyter_tinyai.validation import chat_request


def test_a_good_request_is_the_clients_chat_arguments():
    args = chat_request({"prompt": "Hi", "conversation": "c1", "model": "", "context": [{"label": "x", "text": "1"}],
                         "temperature": 1, "max_tokens": 8, "seed": 3, "settings": {"n_ctx": 512}})
    assert args.prompt == "Hi" and args.settings == {"n_ctx": 512}
    assert args.kwargs() == {"conversation": "c1", "model": None, "system": None, "context": [ContextPiece("x", "1")],
                             "temperature": 1.0, "max_tokens": 8, "seed": 3}
    assert chat_request({"prompt": "Hi", "seed": -1}).seed >= 0  # -1: a new seed, as c.TinyAI.seed = -1


@pytest.mark.parametrize("data, error, message", [
    ({}, InvalidRequest, "the request needs a 'prompt' field."),
    ({"prompt": 3}, InvalidRequest, "the field 'prompt' must be a str, not int."),
    ({"prompt": "  "}, EmptyPrompt, "the prompt is empty"),
    ({"prompt": "Hi", "conversation": 7}, InvalidRequest, "the field 'conversation' must be a str, not int."),
    ({"prompt": "Hi", "model": ["m"]}, InvalidRequest, "the field 'model' must be a str, not list."),
    ({"prompt": "Hi", "context": ["x"]}, InvalidRequest, "'context' must be a list of"),
    ({"prompt": "Hi", "context": [{"label": "x"}]}, InvalidRequest, "'context' must be a list of"),
    ({"prompt": "Hi", "temperature": "hot"}, InvalidRequest, "'temperature' must be a number from 0 to 2, not 'hot'."),
    ({"prompt": "Hi", "max_tokens": 0}, InvalidRequest, "'max_tokens' must be a whole number from 1 to 1,000,000, not 0."),
    ({"prompt": "Hi", "seed": 1.5}, InvalidRequest, "'seed' must be a whole number from 0 to 4294967295"),
    ({"prompt": "Hi", "settings": {"n_ctx": 5}}, InvalidRequest, "the setting 'n_ctx' must be a whole number at least 256"),
    ({"prompt": "Hi", "settings": "big"}, InvalidRequest, "'settings' must be a JSON object"),
])
def test_each_bad_field_is_named(data, error, message):
    with pytest.raises(error) as raised:
        chat_request(data)
    assert str(raised.value).startswith(message)


def test_a_prompt_far_beyond_the_window_is_refused_by_the_requests_own_window_first():
    long = "word " * 40_000  # 200,000 characters: beyond the floor of any window
    chat_request({"prompt": long})  # no window given: not checked here
    with pytest.raises(PromptTooLong):
        chat_request({"prompt": long}, n_ctx=512)
    with pytest.raises(PromptTooLong):
        chat_request({"prompt": "Hi", "context": [{"label": "x", "text": long}]}, n_ctx=512)
    with pytest.raises(PromptTooLong):
        chat_request({"prompt": long, "settings": {"n_ctx": 512}}, n_ctx=10**6)
