"""Credentials stay where they belong: a token sent in a query string never reaches the server's
log, and a stream of a session that no longer exists says so instead of inviting reconnects."""

from __future__ import annotations

import asyncio
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from glue_jupyter.pytest_plugin import end_server

TOKEN = "glue-secret-4d9c1b7e"


async def fetch(url: str, method: str = "GET", body: bytes | None = None) -> int:
    client = AsyncHTTPClient(force_instance=True)
    try:
        response = await client.fetch(url, method=method, body=body, raise_error=False)
        return response.code
    finally:
        client.close()


async def test_tokens_in_query_strings_never_reach_the_log(glue_server_process, glue_config):
    server = await glue_server_process(glue_config, token=TOKEN)
    secret = f"token={TOKEN}"
    wrong = "token=wrong-guess-5e6f"
    # Errors of every kind glue answers, each with a token in its URL (tornado logs those).
    assert await fetch(server.url + f"api/glue/sessions?{secret}&colour=red") == 400
    assert await fetch(server.url + f"api/glue/sessions/nosuch?{secret}") == 404
    assert await fetch(server.url + f"api/glue/sessions/nosuch/interrupt?{secret}", "POST", b"") == 404
    assert await fetch(server.url + f"api/glue/sessions?{secret}", "POST", b'{"agent": 1}') == 400
    assert await fetch(server.url + f"api/glue/info?{wrong}") == 403
    ws_url = server.url.replace("http", "ws", 1) + f"api/glue/sessions/nosuch/stream?after_seq=0&{secret}"
    with pytest.raises(HTTPClientError) as refused:
        await websocket_connect(HTTPRequest(ws_url))
    assert refused.value.code == 404

    # Stop the server and read its whole log.
    await end_server(server)
    await asyncio.wait_for(server.proc._glue_drain, 30)
    log = "\n".join(server.log)
    assert "404 GET /api/glue/sessions/nosuch/stream?after_seq=0&token=[secret]" in log
    assert "token=[secret]" in log
    assert TOKEN not in log and "wrong-guess" not in log, [line for line in server.log if "token=" in line]


async def test_a_forgotten_session_closes_its_streams_with_4004(glue_api):
    sid = (await glue_api.start(prompt="quick"))["id"]
    await glue_api.wait_for(sid, "idle")
    follower = await glue_api.stream(sid)
    await follower.until(lambda e: e["kind"] == "turn_end")
    await glue_api.control(sid, "stop")
    await glue_api.ok("DELETE", "sessions", sid, expect=204)
    while await follower.next() is not None:
        pass
    assert follower.ws.close_code == 4004
    assert sid in follower.ws.close_reason

    # Reconnecting is refused before the upgrade, with the same words over HTTP.
    status, reply = await glue_api.request("GET", "sessions", sid)
    assert status == 404 and sid in reply["message"]
    with pytest.raises(HTTPClientError) as refused:
        await glue_api.stream(sid)
    assert refused.value.code == 404
