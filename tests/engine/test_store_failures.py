"""The store never leaves a session half-way through a transition, and a follower never misses
an event: text that is not valid Unicode, and a database that refuses to write (disk full).

The full disk is SQLite's own: `PRAGMA max_page_count` at the current size makes every write
that needs a new page fail with SQLITE_FULL ("database or disk is full"), as a full disk does.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from glue_jupyter.engine.errors import StoreFailed

WAIT = 20


class Follower:
    """A live subscriber from seq 0, as a WebSocket client is: records every event it is sent."""

    def __init__(self, manager, sid: str):
        self.events: list[dict] = []
        self._sub = manager.subscribe(sid, 0)
        self._task = asyncio.ensure_future(self._follow())
        self._arrived = asyncio.Event()

    async def _follow(self) -> None:
        async for batch in self._sub:
            self.events += batch
            self._arrived.set()

    async def until(self, predicate) -> dict:
        async def wait():
            while True:
                found = [e for e in self.events if predicate(e)]
                if found:
                    return found[0]
                self._arrived.clear()
                await self._arrived.wait()
        return await asyncio.wait_for(wait(), WAIT)

    def close(self) -> None:
        self._sub.close()
        self._task.cancel()


@pytest.fixture
def follow(manager):
    followers = []

    def follow_(sid: str) -> Follower:
        followers.append(Follower(manager, sid))
        return followers[-1]

    yield follow_
    for follower in followers:
        follower.close()


@contextlib.contextmanager
def disk_full(store):
    """No new page for the database until the block ends."""
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    try:
        yield
    finally:
        store.db.execute("PRAGMA max_page_count = 1073741823")


def assert_no_gap(manager, sid: str, follower: Follower) -> None:
    stored = manager.events(sid)
    assert [e["seq"] for e in stored] == list(range(1, len(stored) + 1))
    assert [e["seq"] for e in follower.events] == [e["seq"] for e in stored]  # nothing missed, no duplicate
    assert manager.get(sid)["last_seq"] == stored[-1]["seq"]


async def test_agent_text_that_is_not_unicode_is_repaired_and_the_turn_goes_on(manager, wait, workdir, follow):
    """The demo agent's `surrogate` turn sends "\\ud800" in a session title and in a message."""
    session = await manager.start_session("demo", str(workdir))
    follower = follow(session["id"])
    await manager.prompt(session["id"], "surrogate please")
    end = await follower.until(lambda e: e["kind"] == "turn_end")
    assert end["data"]["stop_reason"] == "end_turn"
    await wait.state(session["id"], "idle")
    assert manager.get(session["id"])["title"] == "Broken \ufffd title"
    assert "Broken \ufffd reply." in wait.text(session["id"])
    assert_no_gap(manager, session["id"], follower)
    assert session["id"] in {s["id"] for s in manager.list_sessions(q="broken reply")}
    await manager.prompt(session["id"], "quick")  # and it keeps working
    await wait.turn_end(session["id"], after_seq=end["seq"])


async def test_a_prompt_the_database_refuses_changes_nothing(manager, wait, workdir, follow):
    session = await manager.start_session("demo", str(workdir))
    sid = session["id"]
    follower = follow(sid)
    await follower.until(lambda e: e["data"].get("state") == "idle")
    before = manager.get(sid)
    with disk_full(manager.store):
        with pytest.raises(StoreFailed, match="database or disk is full"):
            await manager.prompt(sid, "explain the project " + "x" * 200_000)
        after = manager.get(sid)
        assert after["state"] == "idle" and after["turns"] == before["turns"]
        assert manager.sessions[sid].turn is None
        assert after["last_seq"] == before["last_seq"]
    # Space again: the session is as it was, and the next prompt runs as usual, its events
    # numbered right after the last stored one.
    await manager.prompt(sid, "quick")
    await wait.turn_end(sid, after_seq=before["last_seq"])
    await wait.state(sid, "idle")
    events = manager.events(sid, after_seq=before["last_seq"])
    assert events[0]["seq"] == before["last_seq"] + 1 and events[0]["kind"] == "turn_start"
    assert "x" * 100 not in str(events)
    await follower.until(lambda e: e["kind"] == "turn_end")
    assert_no_gap(manager, sid, follower)


async def test_what_the_agent_sends_while_the_database_refuses_is_stored_later(manager, wait, workdir, follow):
    """A flood arriving while the disk is full waits, in order; nothing is lost or skipped."""
    session = await manager.start_session("demo", str(workdir))
    sid = session["id"]
    follower = follow(sid)
    await manager.prompt(sid, "flood")
    await follower.until(lambda e: e["kind"] == "agent_message_chunk")
    with disk_full(manager.store):
        await wait.state(sid, "idle")  # the turn ended: the session goes on in memory
        log = manager.sessions[sid].log
        assert log.stored_seq < log.last_seq  # the rest waits to be stored
        assert max(e["seq"] for e in follower.events) == log.stored_seq  # nothing unstored was sent
    end = await follower.until(lambda e: e["kind"] == "turn_end")  # stored (and sent) once there is room
    assert end["data"]["stop_reason"] == "end_turn"
    await follower.until(lambda e: e["kind"] == "state" and e["data"]["state"] == "idle")
    assert_no_gap(manager, sid, follower)
    text = wait.text(sid)
    assert len(text) > 100_000 and text.count("chunk") >= 20_000 - 1
