"""Many followers of one session: each gets every event once, in order, and the server encodes
each batch once for all of them (speed itself is measured in benchmarks/server.py)."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from glue_jupyter.engine.events import EventLog
from glue_jupyter.server import stream as stream_module

FOLLOWERS = 20


async def test_a_flood_reaches_every_follower_whole_and_is_encoded_once(glue_api, monkeypatch):
    encodes = []
    real_dumps = json.dumps
    counting = SimpleNamespace(dumps=lambda obj, **kw: encodes.append(1) or real_dumps(obj, **kw))
    monkeypatch.setattr(stream_module, "json", counting)  # the stream module's encodes only
    sid = (await glue_api.start())["id"]
    idle = await glue_api.wait_for(sid, "idle")
    followers = [await glue_api.stream(sid, after_seq=idle["last_seq"]) for _ in range(FOLLOWERS)]
    for follower in followers:
        while not follower.live:  # the agent may report options after idle: replayed first
            await follower.next()
    stored = []
    real_flush = EventLog.flush

    def counting_flush(self):
        before = self.stored_seq
        real_flush(self)
        if self.stored_seq != before:
            stored.append(self.stored_seq)

    monkeypatch.setattr(EventLog, "flush", counting_flush)
    encodes.clear()
    await glue_api.control(sid, "prompt", text="flood")
    ends = await asyncio.gather(*(f.until(lambda e: e["kind"] == "turn_end") for f in followers))
    expected = [e["seq"] for e in await glue_api.events(sid, after_seq=idle["last_seq"])]
    for follower, end in zip(followers, ends):
        seqs = [e["seq"] for e in follower.events]
        assert seqs == expected[: len(seqs)] and end["seq"] in seqs  # in order, no gap, no repeat
        follower.close()
    # One encode per stored batch, shared by the twenty sockets (not twenty per batch).
    assert len(stored) > 10
    assert len(encodes) <= len(stored) + FOLLOWERS


def test_shared_json_is_by_identity_and_bounded():
    shared = stream_module.SharedJSON(entries=4, chars=1000)
    batch = [{"seq": 1, "kind": "agent_message_chunk", "data": {"text": "hi"}}]
    text = shared.events([batch])
    assert json.loads(text) == {"type": "events", "events": batch}
    assert shared.events([batch]) == text
    equal_but_other = [dict(batch[0])]
    assert shared.events([equal_but_other, batch]) == json.dumps({"type": "events", "events": equal_but_other + batch})
    for n in range(10):
        shared.events([[{"seq": n, "data": {"text": "x" * 50}}]])
    assert len(shared._texts) <= 4 and shared._held <= 1000
    big = [{"seq": 99, "data": {"text": "y" * 500}}]  # over an eighth of the budget: not kept
    shared.events([big])
    assert id(big) not in shared._texts


async def test_a_follower_that_fell_behind_catches_up_in_one_message(glue_api):
    sid = (await glue_api.start())["id"]
    idle = await glue_api.wait_for(sid, "idle")
    sub = glue_api.manager.subscribe(sid, idle["last_seq"])
    try:
        assert sub.ready() == []
        await glue_api.control(sid, "prompt", text="quick")
        await glue_api.wait_for(sid, "idle")
        first = await sub.__anext__()
        rest = sub.ready()
        seqs = [e["seq"] for batch in [first, *rest] for e in batch]
        assert seqs == list(range(idle["last_seq"] + 1, seqs[-1] + 1)) and len(rest) >= 1
        assert sub.last_seq == seqs[-1] and sub.ready() == []
    finally:
        sub.close()
