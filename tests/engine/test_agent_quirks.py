"""What real agents do that a naive client gets wrong, reproduced by the demo agent's flags.

Each test names the real agent whose behaviour the flag copies (found by running Claude Code's
and Codex's ACP adapters and Gemini CLI through glue, tests/real_agents).
"""

from __future__ import annotations

import pytest

from glue_jupyter.engine import UnknownPermissionRequest
from glue_jupyter.pytest_plugin import demo_argv


@pytest.fixture
def demo_with(make_config, open_manager, tmp_path):
    """A manager whose `demo` agent runs with extra flags (and registry fields)."""

    async def open_(*flags: str, **entry) -> object:
        argv = demo_argv(tmp_path / "demo-state", *flags, pace=0.02)
        return await open_manager(agents={"demo": {"argv": argv, **entry}})

    return open_


async def test_permission_request_ids_never_repeat_within_a_session(manager, wait, workdir):
    """Every agent process numbers its JSON-RPC requests from 0: after a resume the new process'
    first request had the id of the old one, so a stale button or `allow` answered it."""
    session = await manager.start_session("demo", str(workdir), prompt="write first.md")
    sid = session["id"]
    first = await wait.kind(sid, "permission_request")
    await manager.answer_permission(sid, first["data"]["request_id"], "allow")
    await wait.turn_end(sid)
    await manager.stop(sid)
    await manager.resume(sid, prompt="write second.md")
    second = await wait.kind(sid, "permission_request", first["seq"])
    assert second["data"]["request_id"] != first["data"]["request_id"]
    with pytest.raises(UnknownPermissionRequest):
        await manager.answer_permission(sid, first["data"]["request_id"], "allow")
    assert not (workdir / "second.md").exists()
    await manager.answer_permission(sid, second["data"]["request_id"], "deny")
    end = await wait.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 2)
    assert end["data"]["stop_reason"] == "end_turn" and not (workdir / "second.md").exists()


async def test_session_info_after_an_interrupt_is_not_part_of_the_cancelled_turn(demo_with, make_waiter, workdir):
    """Codex's newer adapter sends `_meta`-only status updates around every turn, and a title
    after the cancelled prompt is over (before answering it)."""
    manager = await demo_with("--session-info", "--pace", "0.3")
    wait = make_waiter(manager)
    session = await manager.start_session("demo", str(workdir), prompt="take your time")
    sid = session["id"]
    await wait.kind(sid, "agent_thought_chunk")
    await manager.interrupt(sid)
    await manager.prompt(sid, "quick")
    await wait.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 2)
    infos = [e for e in manager.events(sid) if e["kind"] == "session_info"]
    cancelled_end = next(e for e in manager.events(sid) if e["kind"] == "turn_end" and e["turn"] == 1)
    assert infos and all(e["data"].keys() - {"_meta"} for e in infos)  # no empty status pings
    assert [e["turn"] for e in manager.events(sid) if e["turn"] == 1 and e["seq"] > cancelled_end["seq"]] == []
    assert {e["turn"] for e in infos} <= {None, 2}


async def test_history_replayed_after_answering_load_is_not_part_of_the_next_turn(demo_with, make_waiter, workdir):
    """Gemini CLI answers session/load first and streams the history after it: the registry
    says so (`replays_after_load`), and glue lets the replay end before the next prompt."""
    manager = await demo_with("--replay-after-load", replays_after_load=True)
    wait = make_waiter(manager)
    session = await manager.start_session("demo", str(workdir), prompt="quick: the password is swordfish")
    sid = session["id"]
    await wait.turn_end(sid)
    await manager.prompt(sid, "recall")  # the agent's own reply now holds the word too
    await wait.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 2)
    await manager.stop(sid)
    resumed = await manager.resume(sid, prompt="look around")  # a turn long enough to overlap the replay
    assert resumed["resumed_via"] == "native"
    await wait.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 3)
    third_turn = [e for e in manager.events(sid) if e["turn"] == 3]
    assert [e["data"]["text"] for e in third_turn if e["kind"] == "user_message"] == ["look around"]
    leaked = [(e["kind"], e["data"]) for e in third_turn if "swordfish" in str(e) or "Quick answer" in str(e)]
    assert leaked == []


async def test_an_agent_that_starts_in_a_mode_that_does_not_ask_is_switched_to_one_that_does(
        demo_with, make_waiter, workdir):
    """Claude Code's adapter starts sessions in its "auto" mode, Codex's newer one hands
    approvals to a model reviewer: glue starts each in its registry `start_mode`."""
    manager = await demo_with("--start-mode", "auto", start_mode="ask")
    wait = make_waiter(manager)
    session = await manager.start_session("demo", str(workdir), prompt="write asked.md")
    sid = session["id"]
    request = await wait.kind(sid, "permission_request")
    assert not (workdir / "asked.md").exists()
    changes = [e["data"] for e in manager.events(sid) if e["kind"] == "config_change"]
    assert [(c["option"], c["previous"], c["value"], c["by"]) for c in changes] == [("mode", "auto", "ask", "policy")]
    await manager.answer_permission(sid, request["data"]["request_id"], "deny")
    await wait.turn_end(sid)
    # And again in the new process after a resume (it starts in "auto" again).
    await manager.stop(sid)
    await manager.resume(sid, prompt="write again.md")
    await wait.event(sid, lambda e: e["kind"] == "permission_request" and e["turn"] == 2)
    assert manager.get(sid)["mode"] == "ask"


async def test_an_agent_left_in_a_mode_that_does_not_ask_is_not_started(demo_with, workdir):
    manager = await demo_with("--start-mode", "auto", start_mode="careful")
    session = await manager.start_session("demo", str(workdir), prompt="write never.md")
    assert session["state"] == "failed"
    assert "'auto' mode, in which it writes files or runs commands without asking" in session["error"]
    assert "it does not offer its 'careful' mode" in session["error"]
    assert not (workdir / "never.md").exists()


async def test_under_the_allow_policy_an_agent_may_stay_in_a_mode_that_does_not_ask(open_manager, workdir, tmp_path):
    argv = demo_argv(tmp_path / "demo-state", "--start-mode", "auto", pace=0.02)
    manager = await open_manager(permission_policy="allow", agents={"demo": {"argv": argv, "start_mode": "careful"}})
    session = await manager.start_session("demo", str(workdir))
    assert session["state"] == "idle" and session["mode"] == "auto"
    notices = [e["data"]["text"] for e in manager.events(session["id"]) if e["kind"] == "notice"]
    assert any("does not offer its 'careful' mode" in n for n in notices)
