"""A prompt far beyond the context window is refused at the door, with the limit and what
to do, before it is queued; no history file is written for it."""

from __future__ import annotations

import os

from jupyter_tinyai.prompts import max_prompt_chars


async def test_a_huge_prompt_is_refused_before_it_is_queued(jp_serverapp, jp_ws_fetch, wire):
    service = jp_serverapp.web_app.settings["tinyai_chat"]
    limit = max_prompt_chars(service.n_ctx)
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("huge", "x" * (limit + 1), conversation="c-huge"))
    error = await wire.receive(ws)
    assert (error["type"], error["id"], error["kind"]) == ("error", "huge", "prompt_too_long")
    assert f"{limit:,}" in error["message"] and "Send less" in error["message"]
    # context counts too
    ws.write_message(wire.chat("ctx", "Explain.", conversation="c-huge", context=[{"label": "df", "text": "y" * limit}]))
    assert (await wire.receive(ws))["kind"] == "prompt_too_long"
    ws.close()
    assert not service.active
    assert not os.path.exists(os.path.join(service.store.root, "c-huge.json"))
