"""The REST endpoints against a real Jupyter server and the real bundled model."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_tinyai.models import bundled_path

pytestmark = pytest.mark.model


async def test_models_lists_the_bundled_model_loaded_and_default(tinyai, jp_fetch):
    data = json.loads((await jp_fetch("tinyai", "models")).body)
    ids = [m["id"] for m in data["models"]]
    bundled = [m for m in data["models"] if m["source"] == "bundled"]
    assert len(bundled) == 1 and bundled[0]["path"] == bundled_path()
    assert data["loaded"] == tinyai.model.id == bundled[0]["id"]
    assert data["default"] == bundled[0]["id"]
    assert set(bundled[0]) >= {"id", "name", "backend", "format", "size_bytes", "context_length"}
    assert len(ids) == len(set(ids))


async def test_a_remote_that_is_down_is_a_warning_not_a_model(tinyai, jp_fetch, monkeypatch):
    """The picker is filled from "models": a remote that could not be listed is not one of
    them (picking it could only fail); its reason comes as a warning."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(tinyai.settings, "remotes", {"down": {"url": f"http://127.0.0.1:{port}/v1"}})
    data = json.loads((await jp_fetch("tinyai", "models")).body)
    assert not [m for m in data["models"] if m["source"] == "down" or m.get("extra", {}).get("warning")]
    assert any(m["source"] == "bundled" for m in data["models"])
    [warning] = data["warnings"]
    assert warning["remote"] == "down" and "'down'" in warning["message"] and "cannot reach" in warning["message"]


async def test_status_reports_the_loaded_model(tinyai, jp_fetch):
    status = json.loads((await jp_fetch("tinyai", "status")).body)
    assert status["model"]["id"] == tinyai.model.id
    assert status["busy"] is False and status["n_ctx"] > 0
    assert status["placement"] == tinyai._backend.placement() and status["placement"].startswith("CPU, ")


async def test_load_model(tinyai, jp_fetch):
    response = await jp_fetch("tinyai", "models", "load", method="POST", body=json.dumps({"model": tinyai.model.id}))
    assert json.loads(response.body)["model"]["id"] == tinyai.model.id


async def test_load_unknown_model_is_a_404_with_the_message(tinyai, jp_fetch):
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("tinyai", "models", "load", method="POST", body=json.dumps({"model": "no-such-model-anywhere"}))
    assert error.value.code == 404
    body = json.loads(error.value.response.body)
    assert body["kind"] == "model_not_found" and "no-such-model-anywhere" in body["message"]
    assert tinyai.model is not None  # the loaded model stays


async def test_load_without_a_model_is_a_400(tinyai, jp_fetch):
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("tinyai", "models", "load", method="POST", body="{}")
    assert error.value.code == 400


async def test_unknown_conversation_is_a_404(tinyai, jp_fetch):
    for method in ("GET", "DELETE"):
        with pytest.raises(HTTPClientError) as error:
            await jp_fetch("tinyai", "conversations", "nope", method=method)
        assert error.value.code == 404


async def test_a_bad_model_file_is_a_warning_not_a_model(tinyai, jp_fetch):
    import os
    import pathlib

    from helpers.gguf_files import tiny_model_metadata, write_gguf

    metadata = tiny_model_metadata()
    metadata["general.file_type"] = [1, 2]
    bad = write_gguf(pathlib.Path(os.environ["HF_HUB_CACHE"], "models--x--Bad", "snapshots", "r1", "bad.gguf"), metadata)
    data = json.loads((await jp_fetch("tinyai", "models")).body)
    assert [w for w in data["warnings"] if bad in w["message"] and not w["remote"]] == data["warnings"] and len(data["warnings"]) == 1
    assert all(m["id"] and m["name"] for m in data["models"])  # nothing the sidebar could pick by mistake
    assert data["default"] == tinyai.model.id and bundled_path() in [m["path"] for m in data["models"]]


async def test_models_carries_the_tiny_model_hint_until_another_model_is_pulled(tinyai, jp_fetch):
    import os
    import pathlib

    from helpers.gguf_files import tiny_model_metadata, write_gguf

    data = json.loads((await jp_fetch("tinyai", "models")).body)
    assert [m["source"] for m in data["models"]] == ["bundled"]
    hint = data["hint"]
    assert set(hint) == {"text", "command"} and "tiny model for trying things out" in hint["text"]
    assert hint["command"].startswith("jupyter tinyai pull ") or hint["command"] == "jupyter tinyai models --recommend"
    write_gguf(pathlib.Path(os.environ["HF_HUB_CACHE"], "models--x--Pulled-GGUF", "snapshots", "r1", "pulled.Q4_K_M.gguf"),
               tiny_model_metadata(name="pulled"))
    data = json.loads((await jp_fetch("tinyai", "models")).body)
    assert "hf-cache" in [m["source"] for m in data["models"]]
    assert data["hint"] is None
