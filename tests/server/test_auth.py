"""Every handler the extension registers refuses requests without a token."""

from __future__ import annotations

import re

import pytest
import tornado.httpclient
import tornado.websocket
from tornado import web

METHODS = ("get", "post", "put", "patch", "delete")


def our_routes(router):
    """(url, handler class) of every route to one of our handlers, nested routers included."""
    for rule in router.rules:
        target = rule.target
        if hasattr(target, "rules"):
            yield from our_routes(target)
        elif isinstance(target, type) and target.__module__.startswith("jupyter_tinyai"):
            pattern = rule.matcher.regex.pattern.rstrip("$")
            yield re.sub(r"\([^()]*\)", "some-id", pattern), target


def methods_of(handler):
    return [m for m in METHODS if getattr(handler, m) is not getattr(web.RequestHandler, m)]


@pytest.fixture
def routes(jp_serverapp):
    found = sorted(set(our_routes(jp_serverapp.web_app.default_router)), key=lambda r: r[0])
    assert len(found) >= 6, found  # models, models/load, status, conversations, conversation, chat
    return found


async def test_every_handler_needs_a_token(routes, jp_serverapp, http_server_client):
    port = http_server_client.get_http_port()
    client = tornado.httpclient.AsyncHTTPClient()
    checked = 0
    for url, handler in routes:
        for method in methods_of(handler):
            body = "{}" if method in ("post", "put", "patch") else None
            response = await client.fetch(
                f"http://127.0.0.1:{port}{url}", method=method.upper(), body=body, raise_error=False,
                allow_nonstandard_methods=True, follow_redirects=False, request_timeout=30,
            )
            assert response.code == 403, f"{method.upper()} {url} without a token gave {response.code}"
            checked += 1
        if issubclass(handler, tornado.websocket.WebSocketHandler):
            with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
                await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{port}{url}", connect_timeout=30)
            assert refused.value.code == 403
            checked += 1
    assert checked >= 8


async def test_the_same_requests_pass_with_a_token(routes, jp_serverapp, http_server_client, jp_auth_header):
    """The control for the test above: with the token, GETs are answered (no 403)."""
    port = http_server_client.get_http_port()
    client = tornado.httpclient.AsyncHTTPClient()
    for url, handler in routes:
        if issubclass(handler, tornado.websocket.WebSocketHandler):
            ws = await tornado.websocket.websocket_connect(
                tornado.httpclient.HTTPRequest(f"ws://127.0.0.1:{port}{url}", headers=jp_auth_header, connect_timeout=30)
            )
            ws.close()
        elif "get" in methods_of(handler) and "status" not in url and url.rstrip("/").endswith(("conversations", "some-id")):
            response = await client.fetch(
                f"http://127.0.0.1:{port}{url}", headers=jp_auth_header, raise_error=False, request_timeout=30
            )
            assert response.code in (200, 404), (url, response.code)
