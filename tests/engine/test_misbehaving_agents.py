"""Agents that print garbage, crash, ignore cancel or SIGTERM, or flood: nothing is lost, nothing hangs."""

from __future__ import annotations

import asyncio
import time
import tracemalloc

import pytest

from glue_jupyter.engine import SubscriberTooSlow
from glue_jupyter.engine.events import EventLog


async def test_garbage_on_stdout_is_reported_and_the_turn_still_works(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="garbage")
    end = await wait.turn_end(session["id"])
    assert end["data"]["stop_reason"] == "end_turn"
    notices = [e["data"]["text"] for e in manager.events(session["id"]) if e["kind"] == "notice"]
    assert any("non-protocol output" in n for n in notices)
    assert wait.text(session["id"])  # the real answer arrived too


async def test_crash_mid_turn_fails_with_exit_code_and_stderr(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="crash")
    failed = await wait.state(session["id"], "failed")
    assert failed["exit_code"] == 3
    assert "exited unexpectedly (code 3)" in failed["error"]
    events = manager.events(session["id"])
    exits = [e["data"] for e in events if e["kind"] == "process_exit"]
    assert exits == [{"code": 3, "signal": None, "requested": False}]
    stderr = [line for e in events if e["kind"] == "stderr" for line in e["data"]["lines"]]
    assert any("simulated crash" in line for line in stderr)
    assert [e["data"]["stop_reason"] for e in events if e["kind"] == "turn_end"] == ["failed"]
    # A failed session is resumable.
    resumed = await manager.resume(session["id"], prompt="quick")
    assert resumed["state"] == "running"
    await wait.event(session["id"], lambda e: e["kind"] == "turn_end" and e["turn"] == 2)


async def test_ignored_cancel_escalates_to_restart_and_resume(open_manager, make_waiter, workdir):
    manager = await open_manager(interrupt_timeout=0.5)
    wait = make_waiter(manager)
    session = await manager.start_session("demo", str(workdir), prompt="stubborn")
    sid = session["id"]
    await wait.kind(sid, "agent_message_chunk")
    at_request = manager.get(sid)["last_seq"]
    after = await manager.interrupt(sid)
    assert after["state"] == "idle"
    events = manager.events(sid, after_seq=at_request)
    assert not [e for e in events if e["kind"] in ("agent_message_chunk", "tool_call")]
    notices = [e["data"]["text"] for e in events if e["kind"] == "notice"]
    assert any("did not end the turn" in n for n in notices)
    assert [e["data"]["stop_reason"] for e in events if e["kind"] == "turn_end"] == ["cancelled"]
    resumes = [e["data"] for e in events if e["kind"] == "resume"]
    assert resumes and "ignored interrupt" in resumes[0]["detail"]
    await manager.prompt(sid, "quick")
    await wait.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 2)


async def test_ignored_sigterm_gets_sigkill_after_the_grace_period(open_manager, workdir):
    manager = await open_manager(stop_grace_period=0.5)
    session = await manager.start_session("demo-stubborn", str(workdir))
    started = time.monotonic()
    stopped = await manager.stop(session["id"])
    took = time.monotonic() - started
    assert stopped["state"] == "stopped"
    exit_event = [e["data"] for e in manager.events(session["id"]) if e["kind"] == "process_exit"][-1]
    assert exit_event["signal"] == "SIGKILL"
    assert took >= 0.5


async def test_flood_is_coalesced_and_a_slow_subscriber_is_dropped_not_buffered(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir))
    sid = session["id"]
    log: EventLog = manager.sessions[sid].log
    slow = log.subscribe(after_seq=manager.get(sid)["last_seq"], limit=20)  # never read while flooding
    tracemalloc.start()
    await manager.prompt(sid, "flood")
    end = await wait.turn_end(sid, timeout=60)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert end["data"]["stop_reason"] == "end_turn"
    chunks = [e for e in manager.events(sid) if e["kind"] == "agent_message_chunk"]
    print("flood: chunk events", len(chunks), "peak MiB", peak / 2**20)
    assert len(chunks) < 20_000  # coalesced
    assert sum(len(e["data"]["text"]) for e in chunks) > 100_000  # and nothing lost
    assert peak < 150 * 1024 * 1024
    with pytest.raises(SubscriberTooSlow) as dropped:
        async for _ in slow:
            pass
    # It re-subscribes from its last seq and gets everything, in order, without a gap.
    again = manager.subscribe(sid, dropped.value.last_seq)
    seqs = []
    async for batch in again:
        seqs += [e["seq"] for e in batch]
        if seqs[-1] >= end["seq"]:
            break
    again.close()
    assert seqs == list(range(dropped.value.last_seq + 1, seqs[-1] + 1))


async def test_subscribe_replays_then_goes_live_without_gap_or_duplicate(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="quick")
    sid = session["id"]
    await wait.turn_end(sid)
    received = []
    sub = manager.subscribe(sid, after_seq=2)

    async def consume():
        async for batch in sub:
            received.extend(e["seq"] for e in batch)
            if any(e["kind"] == "turn_end" and e["turn"] == 2 for e in batch):
                return

    consumer = asyncio.ensure_future(consume())
    await manager.prompt(sid, "quick")
    await asyncio.wait_for(consumer, 20)
    sub.close()
    assert received == list(range(3, received[-1] + 1))


async def test_agents_that_cannot_start_fail_with_a_reason(open_manager, workdir):
    manager = await open_manager(start_timeout=2, agents={
        "not-acp": {"argv": ["cat"]},  # echoes our requests back: not an agent
        "dies": {"argv": ["sh", "-c", "echo 'cannot find my config' >&2; exit 7"]},
        "closes-output": {"argv": ["sh", "-c", "exec 1>&-; sleep 30"]},
        "silent": {"argv": ["sleep", "30"]},
    })
    expected = {
        "not-acp": "failed to start",
        "dies": "cannot find my config",
        "closes-output": "failed to start",
        "silent": "no answer within 2 s",
    }
    for agent, says in expected.items():
        session = await manager.start_session(agent, str(workdir))
        assert session["state"] == "failed", (agent, session)
        assert says in session["error"], (agent, session["error"])
    assert manager.info()["active"] == 0  # none of them holds a slot
