"""The WebSockets: replay then live, exact reconnection, slow readers, the global stream."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct

import pytest
from tornado.httpclient import HTTPClientError

TOO_SLOW = 4008


def seqs(events):
    return [e["seq"] for e in events]


async def test_replay_then_live(glue_api):
    sid = (await glue_api.start(prompt="quick"))["id"]
    idle = await glue_api.wait_for(sid, "idle")
    stream = await glue_api.stream(sid)
    while not stream.live:
        message = await stream.next()
    assert message == {"type": "live", "last_seq": idle["last_seq"]}
    assert seqs(stream.events) == list(range(1, idle["last_seq"] + 1))

    await glue_api.control(sid, "prompt", text="quick again")
    await stream.until(lambda e: e["kind"] == "turn_end" and e["turn"] == 2)
    assert seqs(stream.events) == seqs(await glue_api.events(sid))[: len(stream.events)]
    assert seqs(stream.events) == list(range(1, len(stream.events) + 1))


async def test_replay_from_the_middle_and_from_the_end(glue_api):
    sid = (await glue_api.start(prompt="quick"))["id"]
    idle = await glue_api.wait_for(sid, "idle")
    middle = await glue_api.stream(sid, after_seq=3)
    await middle.next()
    assert middle.events[0]["seq"] == 4
    end = await glue_api.stream(sid, after_seq=idle["last_seq"])
    assert await end.next() == {"type": "live", "last_seq": idle["last_seq"]}
    await glue_api.control(sid, "prompt", text="quick")
    first = (await end.next())["events"][0]
    assert first["seq"] == idle["last_seq"] + 1


async def test_bad_stream_requests(glue_api):
    with pytest.raises(HTTPClientError) as unknown:
        await glue_api.stream("nosuch")
    assert unknown.value.code == 404
    sid = (await glue_api.start())["id"]
    with pytest.raises(HTTPClientError) as bad:
        await glue_api._ws_fetch("api", "glue", "sessions", sid, "stream", params={"after_seq": "-2"})
    assert bad.value.code == 400


async def test_dropped_socket_reconnects_to_exactly_the_missed_events(glue_api):
    sid = (await glue_api.start(agent="demo-slow"))["id"]
    await glue_api.wait_for(sid, "idle")
    first = await glue_api.stream(sid)
    await glue_api.control(sid, "prompt", text="tell me a story")
    await first.until(lambda e: e["kind"] == "agent_message_chunk")  # mid-stream
    first.close()
    seen = first.last_seq
    # Let the turn move on while nobody listens, so there is something to miss.
    await glue_api.wait_for(sid, lambda s: s["last_seq"] >= seen + 3)

    second = await glue_api.stream(sid, after_seq=seen)
    await second.until(lambda e: e["kind"] == "turn_end")
    assert second.events[0]["seq"] == seen + 1
    received = seqs(first.events) + seqs(second.events)
    stored = seqs(await glue_api.events(sid))
    assert received == stored[: len(received)]  # no gap, no duplicate, in order
    assert len(set(received)) == len(received)


class RawReader:
    """A WebSocket client that reads only when told to, with a tiny receive buffer: the
    server's writes to it back up almost at once."""

    @classmethod
    async def connect(cls, port: int, path: str, token: str) -> "RawReader":
        self = cls()
        loop = asyncio.get_running_loop()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setblocking(False)
        await loop.sock_connect(self.sock, ("127.0.0.1", port))
        await loop.sock_sendall(self.sock, (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: token {token}\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += await loop.sock_recv(self.sock, 1)  # not a byte past the headers
        head = self.buffer.split(b"\r\n")[0]
        assert b" 101 " in head, head
        self.buffer = b""
        return self

    def read_all(self, timeout: float = 20.0) -> tuple[list[dict], int | None]:
        """Drain until the server closes: (messages, close code)."""
        self.sock.setblocking(True)
        self.sock.settimeout(timeout)
        while chunk := self.sock.recv(1 << 16):
            self.buffer += chunk
        messages, code, data = [], None, self.buffer
        while len(data) >= 2:
            opcode, length, at = data[0] & 0x0F, data[1] & 0x7F, 2
            if length == 126:
                length, at = struct.unpack(">H", data[2:4])[0], 4
            elif length == 127:
                length, at = struct.unpack(">Q", data[2:10])[0], 10
            payload, data = data[at:at + length], data[at + length:]
            if opcode == 1:
                messages.append(json.loads(payload))
            elif opcode == 8:
                code = struct.unpack(">H", payload[:2])[0]
        return messages, code


async def test_a_stuck_reader_is_closed_with_4008_and_never_delays_others(
        glue_api, glue_server, jp_http_port, jp_base_url, caplog):
    sid = (await glue_api.start())["id"]
    await glue_api.wait_for(sid, "idle")
    token = glue_server.identity_provider.token
    closed = asyncio.Event()

    class Watch(logging.Handler):
        def emit(self, record):
            if "reads too slowly" in record.getMessage():
                closed.set()

    watcher = Watch()
    logging.getLogger().addHandler(watcher)
    glue_server.log.addHandler(watcher)
    try:
        stuck = await RawReader.connect(jp_http_port, f"{jp_base_url}api/glue/sessions/{sid}/stream", token)
        reader = await glue_api.stream(sid)
        # Floods until the stuck reader's kernel buffers (a few MB on loopback) are full and
        # the server gives up on it; meanwhile the reading client gets every turn in full.
        for _ in range(40):
            turn = (await glue_api.control(sid, "prompt", text="flood"))["turns"]
            end = await reader.until(lambda e: e["kind"] == "turn_end" and e["turn"] == turn)
            assert end["data"]["stop_reason"] == "end_turn"
            if closed.is_set():
                break
        assert closed.is_set(), "the stuck reader was never closed"
    finally:
        glue_server.log.removeHandler(watcher)
        logging.getLogger().removeHandler(watcher)

    messages, code = await asyncio.to_thread(stuck.read_all)
    assert code == TOO_SLOW
    got = [e for m in messages if m["type"] == "events" for e in m["events"]]
    assert got and seqs(got) == list(range(1, len(got) + 1))
    assert got[-1]["seq"] < end["seq"]  # it was cut off, not buffered without bound

    # It reconnects from its last seq and gets exactly the rest.
    again = await glue_api.stream(sid, after_seq=got[-1]["seq"])
    first_end = await again.until(lambda e: e["kind"] == "turn_end")
    upto = lambda events: [s for s in seqs(events) if s <= first_end["seq"]]  # noqa: E731
    assert seqs(got) + upto(again.events) == upto(reader.events)


async def test_global_stream_snapshot_then_changes(glue_api):
    old = (await glue_api.start(title="old"))["id"]
    await glue_api.wait_for(old, "idle")
    stream = await glue_api.stream()
    snapshot = await stream.next()
    assert snapshot["type"] == "snapshot"
    assert [s["id"] for s in snapshot["sessions"]] == [old]

    async def next_where(predicate):
        while True:
            message = await stream.next()
            if predicate(message):
                return message

    new = (await glue_api.start(title="new"))["id"]
    message = await next_where(lambda m: m["type"] == "session" and m["session"]["id"] == new
                               and m["session"]["state"] == "idle")
    assert message["session"]["title"] == "new"
    await glue_api.control(old, "stop")
    await next_where(lambda m: m["type"] == "session" and m["session"]["state"] == "stopped")
    await glue_api.ok("DELETE", "sessions", old, expect=204)
    assert await next_where(lambda m: m["type"] == "forgotten") == {"type": "forgotten", "id": old}
