"""GET tinyai/model/events pushes the loaded model to the sidebar: the current snapshot at
once, then a pick made elsewhere (a kernel's %tinyai use, the CLI) as it happens."""

from __future__ import annotations

import asyncio
import json

import pytest
import tornado.httpclient

from jupyter_tinyai import sse

pytestmark = [pytest.mark.model, pytest.mark.timeout(300)]

BUNDLED = "llamacpp:SmolLM2-135M-Instruct-Q4_1"


class Stream:
    """The SSE stream of tinyai/model/events, read in the background into a queue."""

    def __init__(self, url: str, headers: dict):
        self.snaps: asyncio.Queue = asyncio.Queue()
        self._buffer = b""
        request = tornado.httpclient.HTTPRequest(
            url, headers=headers, request_timeout=600,
            streaming_callback=self._on_bytes)
        self.task = asyncio.ensure_future(tornado.httpclient.AsyncHTTPClient(force_instance=True).fetch(request))

    def _on_bytes(self, data: bytes) -> None:
        self._buffer += data
        while b"\n\n" in self._buffer:
            block, self._buffer = self._buffer.split(b"\n\n", 1)
            for name, payload in sse.events(block.split(b"\n") + [b""]):
                if name == "model":
                    self.snaps.put_nowait(json.loads(payload))

    async def until(self, event: str) -> list[dict]:
        seen = []
        while True:
            snap = await asyncio.wait_for(self.snaps.get(), 120)
            seen.append(snap)
            if snap["event"] == event:
                return seen

    def close(self):
        self.task.cancel()


async def test_the_sidebar_is_told_of_a_pick_made_elsewhere(tinyai, http_server_client, jp_auth_header, jp_base_url,
                                                            model_path, tmp_path):
    url = f"http://127.0.0.1:{http_server_client.get_http_port()}{jp_base_url}tinyai/model/events"
    stream = Stream(url, jp_auth_header)
    try:
        first = await asyncio.wait_for(stream.snaps.get(), 60)
        assert first["state"] == "loaded" and first["model"]["id"] == BUNDLED
        other = tmp_path / "other-model.gguf"
        other.symlink_to(model_path)
        await asyncio.get_running_loop().run_in_executor(None, tinyai.load, str(other))  # e.g. a kernel's pick
        seen = await stream.until("picked")
        assert all(s["loading"]["id"] == "llamacpp:other-model" for s in seen if s["state"] == "loading")
        assert seen[-1]["model"]["id"] == "llamacpp:other-model" and seen[-1]["placement"].startswith("CPU")
    finally:
        stream.close()
        await asyncio.get_running_loop().run_in_executor(None, tinyai.load)
