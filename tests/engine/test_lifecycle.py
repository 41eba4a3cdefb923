"""The lifecycle of docs/contract.md against real demo agent processes and a real database."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from glue_jupyter.engine import (
    AgentNotInstalled,
    IllegalControl,
    InvalidRequest,
    NoFreeSlot,
    UnknownAgent,
    UnknownSession,
)
from glue_jupyter.engine.states import LEGAL

TURN_CONTENT = {"agent_message_chunk", "agent_thought_chunk", "tool_call", "tool_call_update", "plan",
                "permission_request"}


def proc_state(pid: int) -> str | None:
    """The kernel's one-letter state of a process (R, S, T, Z...), None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2]


def gone(pid: int) -> bool:
    return proc_state(pid) in (None, "Z")


async def test_start_prompt_streams_and_ends_turn(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="Tidy up utils.py")
    assert session["state"] == "running"
    assert session["title"] == "Tidy up utils.py"
    end = await wait.turn_end(session["id"])
    assert end["data"]["stop_reason"] == "end_turn"
    await wait.state(session["id"], "idle")
    events = manager.events(session["id"])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    kinds = {e["kind"] for e in events}
    assert {"user_message", "agent_message_chunk", "tool_call", "plan", "turn_start", "turn_end"} <= kinds
    assert "Tidy up utils.py" in wait.text(session["id"])
    assert manager.get(session["id"])["last_seq"] == events[-1]["seq"]


async def test_interrupt_mid_stream_records_nothing_more_of_the_turn(manager, wait, workdir):
    session = await manager.start_session("demo-slow", str(workdir), prompt="explain the project")
    sid = session["id"]
    await wait.kind(sid, "agent_thought_chunk")
    at_request = manager.get(sid)["last_seq"]
    await manager.interrupt(sid)
    after = [e for e in manager.events(sid, after_seq=at_request)]
    assert not [e for e in after if e["kind"] in TURN_CONTENT], after
    assert [e["data"]["stop_reason"] for e in after if e["kind"] == "turn_end"] == ["cancelled"]
    assert manager.get(sid)["state"] == "idle"
    # The process stayed alive and the composer works at once.
    pid = next(e["data"]["pid"] for e in manager.events(sid) if e["kind"] == "process_start")
    assert not gone(pid)
    await manager.prompt(sid, "quick")
    end = await wait.turn_end(sid, after_seq=at_request + len(after))
    assert end["data"]["stop_reason"] == "end_turn"


async def test_stop_ends_the_whole_process_group(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="sleep")
    sid = session["id"]
    event = await wait.event(sid, lambda e: "pid=" in str(e["data"]))
    sleep_pid = int(re.search(r"pid=(\d+)", str(event["data"])).group(1))
    agent_pid = next(e["data"]["pid"] for e in manager.events(sid) if e["kind"] == "process_start")
    assert proc_state(sleep_pid) not in (None, "Z")
    stopped = await manager.stop(sid)
    assert stopped["state"] == "stopped"
    assert gone(sleep_pid) and gone(agent_pid)
    kinds = [e["kind"] for e in manager.events(sid)]
    assert "process_exit" in kinds
    assert [e["data"]["stop_reason"] for e in manager.events(sid) if e["kind"] == "turn_end"] == ["stopped"]
    # Stopped sessions stay listed with their transcript.
    assert [s["id"] for s in manager.list_sessions(state="stopped")] == [sid]


async def test_pause_freezes_the_group_and_frees_the_slot(open_manager, make_waiter, workdir):
    manager = await open_manager(max_active_sessions=1)
    wait = make_waiter(manager)
    first = await manager.start_session("demo-slow", str(workdir), prompt="explain")
    sid = first["id"]
    await wait.kind(sid, "agent_thought_chunk")
    agent_pid = next(e["data"]["pid"] for e in manager.events(sid) if e["kind"] == "process_start")
    paused = await manager.pause(sid)
    assert paused["state"] == "paused" and paused["paused_since"] is not None
    assert proc_state(agent_pid) == "T"
    frozen_at = manager.get(sid)["last_seq"]
    # The slot is free: a second session runs a whole turn while the first stays frozen.
    second = await manager.start_session("demo", str(workdir), prompt="quick")
    await wait.turn_end(second["id"])
    assert manager.get(sid)["last_seq"] == frozen_at, manager.events(sid, after_seq=frozen_at)
    with pytest.raises(NoFreeSlot):
        await manager.resume(sid)
    await manager.stop(second["id"])
    resumed = await manager.resume(sid)
    assert resumed["state"] == "running" and resumed["resumed_via"] == "thaw"
    assert proc_state(agent_pid) != "T"
    end = await wait.turn_end(sid)
    assert end["data"]["stop_reason"] == "end_turn"
    assert any(e["kind"] == "resume" and e["data"]["via"] == "thaw" for e in manager.events(sid))


async def test_slots_refuse_the_extra_session(open_manager, workdir):
    manager = await open_manager(max_active_sessions=1)
    first = await manager.start_session("demo", str(workdir), title="first one")
    with pytest.raises(NoFreeSlot) as refused:
        await manager.start_session("demo", str(workdir))
    message = str(refused.value)
    assert first["id"][:8] in message and first["id"] not in message and "first one" in message and "Pause or stop" in message
    assert len(manager.list_sessions()) == 1
    assert manager.info()["active"] == 1


@pytest.mark.parametrize("agent,via,fallback", [
    ("demo", "native", False),
    ("demo-refuse", "seeded", True),
    ("demo-noload", "seeded", False),
])
async def test_resume_carries_the_conversation_on(manager, wait, workdir, agent, via, fallback):
    session = await manager.start_session(agent, str(workdir), prompt="quick: remember the word aubergine")
    sid = session["id"]
    await wait.turn_end(sid)
    await manager.stop(sid)
    resumed = await manager.resume(sid, prompt="recall")
    assert resumed["resumed_via"] == via
    end = await wait.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 2)
    assert end["data"]["stop_reason"] == "end_turn"
    assert "aubergine" in wait.text(sid, turn=2)
    events = manager.events(sid)
    resume = [e for e in events if e["kind"] == "resume"]
    assert [e["data"]["via"] for e in resume] == [via]
    notices = [e["data"]["text"] for e in events if e["kind"] == "notice"]
    assert any("falling back to seeding" in n for n in notices) == fallback
    # A native load replays history: our transcript does not take the replay in twice.
    assert [e["data"]["text"] for e in events if e["kind"] == "user_message"] == [
        "quick: remember the word aubergine", "recall"]


async def test_permission_allow_and_deny(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="write notes.md")
    sid = session["id"]
    request = await wait.kind(sid, "permission_request")
    assert manager.get(sid)["pending_permissions"] == 1
    options = {o["kind"]: o["option_id"] for o in request["data"]["options"]}
    with pytest.raises(InvalidRequest):
        await manager.answer_permission(sid, request["data"]["request_id"], "no-such-option")
    await manager.answer_permission(sid, request["data"]["request_id"], options["allow_once"])
    end = await wait.turn_end(sid)
    assert (workdir / "notes.md").exists()
    assert "notes.md" in end["data"]["files"]
    assert manager.get(sid)["pending_permissions"] == 0

    await wait.state(sid, "idle")
    await manager.prompt(sid, "write other.md")
    request = await wait.kind(sid, "permission_request", after_seq=end["seq"])
    deny = next(o["option_id"] for o in request["data"]["options"] if o["kind"].startswith("reject"))
    await manager.answer_permission(sid, request["data"]["request_id"], deny)
    await wait.turn_end(sid, after_seq=request["seq"])
    assert not (workdir / "other.md").exists()
    answers = [e["data"] for e in manager.events(sid) if e["kind"] == "permission_answer"]
    assert [a["outcome"] for a in answers] == ["selected", "selected"]


async def test_interrupt_withdraws_pending_permission(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="write notes.md")
    sid = session["id"]
    request = await wait.kind(sid, "permission_request")
    await manager.interrupt(sid)
    answers = [e["data"] for e in manager.events(sid) if e["kind"] == "permission_answer"]
    assert answers == [{"request_id": request["data"]["request_id"], "outcome": "cancelled"}]
    assert manager.get(sid)["pending_permissions"] == 0
    assert not (workdir / "notes.md").exists()
    with pytest.raises(IllegalControl):
        await manager.answer_permission(sid, request["data"]["request_id"], "allow")


async def test_restart_on_the_same_database(open_manager, make_waiter, workdir):
    first = await open_manager()
    wait = make_waiter(first)
    done = await first.start_session("demo", str(workdir), prompt="quick: remember the word quince")
    await wait.turn_end(done["id"])
    await first.stop(done["id"])
    live = await first.start_session("demo", str(workdir), prompt="quick")
    await wait.turn_end(live["id"])
    before = {s["id"]: first.events(s["id"]) for s in first.list_sessions()}
    # The program dies without closing anything.
    for session in first.sessions.values():
        session.log.flush()
        session.kill_now()

    second = await open_manager()
    wait2 = make_waiter(second)
    states = {s["id"]: s["state"] for s in second.list_sessions()}
    assert states == {done["id"]: "stopped", live["id"]: "failed"}
    for sid, events in before.items():
        assert second.events(sid)[: len(events)] == events
    resumed = await second.resume(live["id"], prompt="quick")
    assert resumed["state"] in ("running", "idle")
    await wait2.event(live["id"], lambda e: e["kind"] == "turn_end" and e["turn"] == 2)
    resumed = await second.resume(done["id"], prompt="recall")
    await wait2.event(done["id"], lambda e: e["kind"] == "turn_end" and e["turn"] == 2)
    assert "quince" in wait2.text(done["id"], turn=2)


async def test_search_and_list_filters(manager, wait, workdir):
    a = await manager.start_session("demo", str(workdir), title="Loader cleanup", prompt="quick: zanzibar")
    b = await manager.start_session("demo-noload", str(workdir), prompt="quick: tidy")
    await wait.turn_end(a["id"])
    await wait.turn_end(b["id"])
    assert [s["id"] for s in manager.list_sessions(q="zanzib")] == [a["id"]]
    assert [s["id"] for s in manager.list_sessions(q="loader")] == [a["id"]]
    assert [s["id"] for s in manager.list_sessions(agent="demo-noload")] == [b["id"]]
    assert [s["id"] for s in manager.list_sessions()] == [b["id"], a["id"]]  # most recent first
    with pytest.raises(InvalidRequest):
        manager.list_sessions(sort="colour")
    with pytest.raises(InvalidRequest):
        manager.list_sessions(state="sleepy")


async def test_bad_requests_are_refused_clearly(manager, workdir):
    with pytest.raises(UnknownSession, match="nope"):
        manager.get("nope")
    with pytest.raises(UnknownAgent, match="Known agents"):
        await manager.start_session("hal9000", str(workdir))
    with pytest.raises(InvalidRequest, match="does not exist"):
        await manager.start_session("demo", str(workdir / "missing"))
    with pytest.raises(AgentNotInstalled, match="npm install"):
        manager.agents_table["codex"].argv = ["definitely-not-installed-codex-acp"]
        await manager.start_session("codex", str(workdir))
    assert manager.list_sessions() == []


CONTROLS = {
    "prompt": lambda m, sid: m.prompt(sid, "quick"),
    "interrupt": lambda m, sid: m.interrupt(sid),
    "pause": lambda m, sid: m.pause(sid),
    "resume": lambda m, sid: m.resume(sid),
    "stop": lambda m, sid: m.stop(sid),
    "forget": lambda m, sid: m.forget(sid),
}


async def _session_in(manager, wait, workdir, state: str) -> str:
    if state == "failed":
        session = await manager.start_session("demo", str(workdir), prompt="crash")
        await wait.state(session["id"], "failed")
        return session["id"]
    prompt = "explain" if state in ("running", "paused") else None
    session = await manager.start_session("demo-slow", str(workdir), prompt=prompt)
    sid = session["id"]
    if state == "paused":
        await manager.pause(sid)
    elif state == "stopped":
        await manager.stop(sid)
    return sid


@pytest.mark.parametrize("state", ["idle", "running", "paused", "stopped", "failed"])
async def test_every_control_from_every_state(manager, wait, workdir, state):
    for control, call in CONTROLS.items():
        sid = await _session_in(manager, wait, workdir, state)
        assert manager.get(sid)["state"] == state
        legal = state in {s.value for s in LEGAL[control]}
        if not legal:
            with pytest.raises(IllegalControl) as refused:
                await call(manager, sid)
            message = str(refused.value)
            assert sid[:8] in message and sid not in message and control in message and state in message
            assert manager.get(sid)["state"] == state  # nothing changed
        else:
            await call(manager, sid)
            expected = {
                "prompt": {"running", "paused"}, "interrupt": {"idle"}, "pause": {"paused"},
                "resume": {"idle", "running"}, "stop": {"stopped"}, "forget": None,
            }[control]
            if expected is None:
                with pytest.raises(UnknownSession):
                    manager.get(sid)
            else:
                assert manager.get(sid)["state"] in expected
        if sid in manager.sessions and manager.get(sid)["state"] not in ("stopped", "failed"):
            await manager.stop(sid)


async def test_events_json_matches_events(manager, wait, workdir):
    import json

    session = await manager.start_session("demo", str(workdir), prompt="Tidy “quotes” and ünïcode")
    await wait.turn_end(session["id"])
    events = manager.events(session["id"])
    assert [json.loads(e) for e in manager.events_json(session["id"])] == events
    assert [json.loads(e) for e in manager.events_json(session["id"], after_seq=3, limit=2)] == events[3:5]


async def test_interrupt_right_after_prompt_cancels_without_escalation(open_manager, make_waiter, workdir):
    manager = await open_manager(interrupt_timeout=30)
    session = await manager.start_session("demo", str(workdir))
    await manager.prompt(session["id"], "explain")
    after = await manager.interrupt(session["id"])  # the cancel must not overtake the prompt
    assert after["state"] == "idle"
    events = manager.events(session["id"])
    assert [e["data"]["stop_reason"] for e in events if e["kind"] == "turn_end"] == ["cancelled"]
    assert not [e for e in events if e["kind"] == "notice"]
    assert [e["kind"] for e in events].count("process_start") == 1


async def test_blank_first_prompt_is_refused(manager, workdir):
    with pytest.raises(InvalidRequest):
        await manager.start_session("demo", str(workdir), prompt="   ")
    assert manager.list_sessions() == []
