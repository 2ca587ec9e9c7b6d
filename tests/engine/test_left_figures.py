"""A consumer that leaves mid-answer (Ctrl-C in the CLI, a closed connection to the host)
still leaves the answer's real figures behind for `status`: what was read and written."""

import uuid

import pytest

pytestmark = pytest.mark.model


def test_the_figures_of_an_answer_left_midway_are_its_own(engine):
    stream = engine.chat("Write a long story about a dragon.", conversation=uuid.uuid4().hex, max_tokens=200)
    texts = []
    for chunk in stream:
        if chunk.text:
            texts.append(chunk.text)
        if len(texts) == 3:
            break
    stream.close()  # as the host does when its client's connection closes
    last = engine.last_stats
    assert last.finish_reason == "cancelled"
    assert last.prompt_tokens > 20 and 3 <= last.generated_tokens <= 5, "the tokens it read and wrote"
    assert last.model.startswith("llamacpp:") and last.tokens_per_s > 0
