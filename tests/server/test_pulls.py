"""tinyai/catalog and tinyai/pulls against a real Jupyter server and a local Hub
(tests/helpers/fake_hub.py behind HF_ENDPOINT, loopback only). No model is loaded: the
listing of tinyai/models is the only use of the client, through an in-process engine."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib

import pytest
import tornado.httpclient
from helpers.fake_hub import FakeHub
from helpers.gguf_files import tiny_model_metadata, write_gguf
from tornado.httpclient import HTTPClientError

from jupyter_tinyai.models import download

MB = 1024 * 1024
REPO = "someone/Tiny-GGUF"
FILE = "tiny-Q4_K_M.gguf"
CATALOG_REPO = "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF"  # the repo of the catalog's qwen2.5-coder-0.5b
CATALOG_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


@pytest.fixture
def hub(monkeypatch, tmp_path):
    server = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(download, "RETRY_WAITS_S", (0.01, 0.01, 0.01))
    data = pathlib.Path(write_gguf(tmp_path / "tiny.gguf", tiny_model_metadata(name="tiny"), data_bytes=4 * MB)).read_bytes()
    server.add(REPO, {FILE: data, "README.md": b"# tiny\n"})
    server.add(CATALOG_REPO, {CATALOG_FILE: data})
    yield server
    server.stop()


@pytest.fixture
def lister(jp_serverapp):
    """An in-process engine as the server's client: it lists models, it loads none here."""
    from jupyter_tinyai import api
    from jupyter_tinyai.config import load_settings
    from jupyter_tinyai.engine import Engine

    before = api._client
    api.set_default_client(Engine(load_settings(host="inprocess")))
    yield
    api.set_default_client(before)


async def _json(jp_fetch, *path, **kwargs):
    return json.loads((await jp_fetch("tinyai", *path, **kwargs)).body)


async def _post(jp_fetch, **body):
    response = await jp_fetch("tinyai", "pulls", method="POST", body=json.dumps(body))
    return response.code, json.loads(response.body)["pull"]


async def _until(jp_fetch, pull_id, predicate, what: str) -> dict:
    """The pull once ``predicate`` holds (polled; a bound, not a timing assertion)."""
    for _ in range(1200):
        pull = (await _json(jp_fetch, "pulls", pull_id))["pull"]
        if predicate(pull):
            return pull
        await asyncio.sleep(0.05)
    raise AssertionError(f"the pull never got {what}: {pull}")


def _partial(hub, repo=REPO, name=FILE) -> str:
    sha = hub.repos[repo].meta(name)["sha256"]
    return os.path.join(os.environ["HF_HUB_CACHE"], "models--" + repo.replace("/", "--"), "blobs", sha + ".incomplete")


async def test_catalog_lists_every_entry_with_a_badge(jp_fetch, jp_serverapp):
    data = await _json(jp_fetch, "catalog")
    assert data["machine"]["total_bytes"] > 0 and data["n_ctx"] > 0
    names = [m["name"] for m in data["models"]]
    assert "qwen2.5-coder-1.5b" in names and len(names) >= 10
    for model in data["models"]:
        assert model["fit"]["badge"] in ("fits", "tight", "too large")
        assert model["size_bytes"] > 0 and model["pull"] == f"jupyter tinyai pull {model['name']}"
        assert model["pulled"] is False
    assert set(data["best"]) == {"chat", "code", "completion"}


async def test_a_pull_runs_to_done_with_progress_and_the_model_is_listed(hub, lister, jp_fetch):
    hub.switches.pause_at = 2 * MB  # hold it midway: the progress of a running pull is seen
    code, pull = await _post(jp_fetch, name=REPO)
    assert code == 202 and pull["state"] == "running" and pull["name"] == REPO
    assert hub.paused.wait(60)
    running = await _until(jp_fetch, pull["id"], lambda p: (p["progress"] or {}).get("done", 0) > 0, "progress")
    assert running["state"] == "running"
    progress = running["progress"]
    assert progress["phase"] == "downloading" and progress["total"] == hub.repos[REPO].meta(FILE)["size"]
    assert 0 < progress["fraction"] < 1 and FILE in progress["message"]
    assert [p["id"] for p in (await _json(jp_fetch, "pulls"))["pulls"]] == [pull["id"]]
    hub.resume.set()
    done = await _until(jp_fetch, pull["id"], lambda p: p["state"] != "running", "finished")
    assert done["state"] == "done", done
    assert done["progress"]["phase"] == "done" and done["model"]["source"] == "hf-cache"
    models = await _json(jp_fetch, "models")
    assert done["model"]["id"] in [m["id"] for m in models["models"]]
    assert models["hint"] is None  # a model beside the bundled one: no tiny-model hint
    assert len(hub.gets(FILE)) == 1


async def test_cancel_keeps_the_partial_file_and_a_new_pull_resumes(hub, jp_fetch):
    hub.switches.pause_at = 3 * MB
    _, pull = await _post(jp_fetch, name=REPO)
    assert hub.paused.wait(60)
    for _ in range(1200):  # the client has all the hub sent (progress reports are throttled, the file is not)
        if os.path.exists(_partial(hub)) and os.path.getsize(_partial(hub)) >= 3 * MB:
            break
        await asyncio.sleep(0.05)
    cancelled = (await _json(jp_fetch, "pulls", pull["id"], method="DELETE"))["pull"]
    assert cancelled["id"] == pull["id"]
    stopped = await _until(jp_fetch, pull["id"], lambda p: p["state"] != "running", "stopped")
    assert stopped["state"] == "cancelled" and "pull again to resume" in stopped["error"]["message"]
    assert os.path.getsize(_partial(hub)) >= 3 * MB  # kept for the resume
    hub.switches.pause_at = None
    hub.resume.set()
    code, again = await _post(jp_fetch, name=REPO)
    assert code == 202 and again["id"] != pull["id"]
    done = await _until(jp_fetch, again["id"], lambda p: p["state"] != "running", "finished")
    assert done["state"] == "done", done
    resumed = hub.gets(FILE)[-1]
    assert resumed.range.startswith("bytes=") and int(resumed.range[6:].split("-")[0]) >= 3 * MB
    assert resumed.sent < hub.repos[REPO].meta(FILE)["size"]
    # a finished pull is forgotten on DELETE
    await jp_fetch("tinyai", "pulls", again["id"], method="DELETE")
    assert again["id"] not in [p["id"] for p in (await _json(jp_fetch, "pulls"))["pulls"]]


async def test_two_clients_asking_for_the_same_file_share_one_download(hub, jp_fetch):
    hub.switches.pause_at = 1 * MB
    code1, first = await _post(jp_fetch, name="qwen2.5-coder-0.5b")
    code2, same = await _post(jp_fetch, name="qwen2.5-coder-0.5b")
    assert (code1, code2) == (202, 200) and same["id"] == first["id"]  # the same name: the same pull
    assert hub.paused.wait(60)
    code3, other = await _post(jp_fetch, name=CATALOG_REPO)  # another name for the same file
    assert code3 == 202 and other["id"] != first["id"]
    await _until(jp_fetch, other["id"], lambda p: p["progress"] is not None, "progress of the shared download")
    hub.resume.set()
    for pull in (first, other):
        done = await _until(jp_fetch, pull["id"], lambda p: p["state"] != "running", "finished")
        assert done["state"] == "done", done
    assert len(hub.gets(CATALOG_FILE)) == 1  # one download for both


async def test_hub_errors_end_the_pull_with_their_message(hub, jp_fetch):
    _, pull = await _post(jp_fetch, name="nobody/Missing-GGUF")
    failed = await _until(jp_fetch, pull["id"], lambda p: p["state"] != "running", "finished")
    assert failed["state"] == "failed" and failed["error"]["kind"] and "nobody/Missing-GGUF" in failed["error"]["message"]
    with pytest.raises(HTTPClientError) as bad:
        await jp_fetch("tinyai", "pulls", method="POST", body=json.dumps({"name": ""}))
    assert bad.value.code == 400
    with pytest.raises(HTTPClientError) as missing:
        await jp_fetch("tinyai", "pulls", "abcdef012345", method="DELETE")
    assert missing.value.code == 404


async def test_without_a_token_nothing_is_listed_started_or_cancelled(hub, jp_serverapp, http_server_client):
    port = http_server_client.get_http_port()
    client = tornado.httpclient.AsyncHTTPClient()
    base = f"http://127.0.0.1:{port}{jp_serverapp.base_url}tinyai"
    for method, url, body in (("GET", "/catalog", None), ("GET", "/pulls", None),
                              ("POST", "/pulls", json.dumps({"name": REPO})), ("DELETE", "/pulls/abcdef012345", None)):
        response = await client.fetch(base + url, method=method, body=body, raise_error=False,
                                      allow_nonstandard_methods=True, request_timeout=30)
        assert response.code == 403, (method, url, response.code)
    assert hub.requests == []  # nothing was asked of the Hub
