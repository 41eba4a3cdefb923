"""Every route behind Jupyter's authentication, `authorized` on resource "glue", XSRF and origin."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from jupyter_server.auth import Authorizer
from jupyter_server.utils import url_path_join
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect


class RecordingAuthorizer(Authorizer):
    """Allows (or, with `deny`, refuses) everything, and records what it was asked."""

    calls: list[tuple[str, str, str]] = []
    deny = False

    def is_authorized(self, handler, user, action, resource) -> bool:
        RecordingAuthorizer.calls.append((handler.request.path, action, resource))
        return not RecordingAuthorizer.deny


@pytest.fixture
def jp_server_config(request, glue_config):
    config = {"ServerApp": {"jpserver_extensions": {"glue_jupyter": True}}, "GlueApp": glue_config}
    if "recording" in request.keywords:
        RecordingAuthorizer.calls, RecordingAuthorizer.deny = [], False
        config["ServerApp"]["authorizer_class"] = RecordingAuthorizer
    return config


def routes(sid: str) -> list[tuple[str, str, dict | None]]:
    """(method, path under api/glue, body) for every HTTP route."""
    s = f"sessions/{sid}"
    return [
        ("GET", "info", None), ("GET", "agents", None), ("GET", "openapi.yaml", None),
        ("GET", "sessions", None), ("POST", "sessions", {"agent": "nobody"}),
        ("GET", s, None), ("DELETE", s, None), ("GET", f"{s}/events", None),
        ("POST", f"{s}/prompt", {"text": "hi"}), ("POST", f"{s}/interrupt", {}),
        ("POST", f"{s}/pause", {}), ("POST", f"{s}/stop", {}), ("POST", f"{s}/resume", {}),
        ("POST", f"{s}/permissions/r1", {"option_id": "o"}),
        ("PATCH", s, {"title": "renamed"}), ("POST", f"{s}/seen", {}),
        ("POST", f"{s}/config", {"option": "mode", "value": "plan"}), ("GET", "agents/nobody/sessions", None),
    ]


def sockets(sid: str) -> list[str]:
    return [f"sessions/{sid}/stream", "stream"]


@pytest.fixture
def raw(http_server_client, jp_base_url, jp_http_port):
    """Requests with only the credentials a test gives them."""

    async def http(method, path, body=None, headers=None):
        url = url_path_join(jp_base_url, "api/glue", path)
        payload = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        return await http_server_client.fetch(url, method=method, body=payload, headers=headers or {},
                                              raise_error=False, request_timeout=20)

    async def ws(path, headers=None):
        url = f"ws://127.0.0.1:{jp_http_port}" + url_path_join(jp_base_url, "api/glue", path)
        return await websocket_connect(HTTPRequest(url, headers=headers or {}))

    return http, ws


async def a_session(glue_api) -> str:
    sid = (await glue_api.start())["id"]
    await glue_api.wait_for(sid, "idle")
    return sid


async def test_no_credentials_refused_everywhere(glue_api, raw):
    http, ws = raw
    sid = await a_session(glue_api)
    for method, path, body in routes(sid):
        response = await http(method, path, body)
        assert response.code == 403, (method, path)
        assert set(json.loads(response.body)) == {"message"}
    for path in sockets(sid):
        with pytest.raises(HTTPClientError) as refused:
            await ws(path)
        assert refused.value.code == 403, path
    assert (await glue_api.ok("GET", "sessions", sid))["state"] == "idle"  # nothing happened


async def login_cookie(http, jp_auth_header) -> str:
    """A token-authenticated request hands out the login cookie, as a browser would get it."""
    login = await http("GET", "info", headers=jp_auth_header)
    cookies = [c.split(";")[0] for c in login.headers.get_list("Set-Cookie")]
    assert cookies, "no login cookie"
    return "; ".join(cookies)


async def test_cookie_post_needs_the_xsrf_token(glue_api, raw, jp_auth_header):
    http, _ = raw
    cookie = await login_cookie(http, jp_auth_header)
    assert (await http("GET", "info", headers={"Cookie": cookie})).code == 200
    refused = await http("POST", "sessions", {"agent": "demo"}, headers={"Cookie": cookie})
    assert refused.code == 403
    assert "_xsrf" in json.loads(refused.body)["message"]
    assert (await glue_api.ok("GET", "sessions"))["sessions"] == []

    xsrf = {"Cookie": f"{cookie}; _xsrf=glue-xsrf", "X-XSRFToken": "glue-xsrf"}
    accepted = await http("POST", "sessions", {"agent": "demo"}, headers=xsrf)
    assert accepted.code == 201


async def test_websocket_origin_is_checked(glue_api, raw, jp_auth_header, jp_http_port):
    """Cookie-authenticated sockets (a browser's) must come from the server's own origin."""
    http, ws = raw
    sid = await a_session(glue_api)
    cookie = await login_cookie(http, jp_auth_header)
    for path in sockets(sid):
        with pytest.raises(HTTPClientError) as refused:
            await ws(path, headers={"Cookie": cookie, "Origin": "http://evil.example"})
        assert refused.value.code == 403, path
        same = await ws(path, headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{jp_http_port}"})
        assert json.loads(await same.read_message())["type"] in ("events", "live", "snapshot")
        same.close()


@pytest.mark.recording
async def test_every_route_is_authorized_on_glue(glue_api, raw, jp_auth_header, jp_base_url):
    http, ws = raw
    sid = await a_session(glue_api)
    expected = set()
    RecordingAuthorizer.calls.clear()
    for method, path, body in routes(sid):
        await http(method, path, body, headers=jp_auth_header)
        expected.add((url_path_join(jp_base_url, "api/glue", path), "read" if method == "GET" else "write"))
    for path in sockets(sid):
        (await ws(path, headers=jp_auth_header)).close()
        expected.add((url_path_join(jp_base_url, "api/glue", path), "read"))

    seen = {(urllib.parse.unquote(p), a, r) for p, a, r in RecordingAuthorizer.calls}
    glue_calls = {c for c in seen if "/api/glue/" in c[0]}
    assert {r for _, _, r in glue_calls} == {"glue"}
    unquoted = {(urllib.parse.unquote(p), a) for p, a in expected}
    assert {(p, a) for p, a, _ in glue_calls} == unquoted

    # And the answer is obeyed: refused everywhere once the authorizer says no.
    RecordingAuthorizer.deny = True
    for method, path, body in routes(sid):
        assert (await http(method, path, body, headers=jp_auth_header)).code == 403, path
    for path in sockets(sid):
        with pytest.raises(HTTPClientError) as refused:
            await ws(path, headers=jp_auth_header)
        assert refused.value.code == 403
