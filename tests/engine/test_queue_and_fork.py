"""Queue and steer (messages sent while a turn runs) and fork, with real demo agents."""

from __future__ import annotations

from pathlib import Path

import pytest

from glue_jupyter.engine import IllegalControl, InvalidRequest
from glue_jupyter.engine.queue import UnknownQueuedMessage
from gitrepos import make_repo

LONG = "edit wait 30"   # a turn that runs until interrupted


def user_messages(manager, sid):
    return [(e["turn"], e["data"]) for e in manager.events(sid) if e["kind"] == "user_message"]


async def running(manager, wait, agent="demo", prompt=LONG, **kwargs):
    session = await manager.start_session(agent, prompt=prompt, **kwargs)
    await wait.event(session["id"], lambda e: e["kind"] == "tool_call" and e["data"].get("title", "").startswith("Wait"))
    return session["id"]


async def two_turns(manager, wait, agent: str, first: str, second: str) -> str:
    """A session of `agent` that has finished two turns (their changes listed), idle."""
    session = await manager.start_session(agent, prompt=first)
    sid = session["id"]
    await wait.checkpointed(sid)
    seq = manager.get(sid)["last_seq"]
    await manager.prompt(sid, second)
    await wait.checkpointed(sid, seq)
    return sid


@pytest.fixture
async def manager(open_manager):
    return await open_manager(permission_policy="allow")


async def test_a_message_sent_while_a_turn_runs_is_queued_and_sent_when_it_ends(manager, wait):
    sid = await running(manager, wait, prompt="edit wait 0.5")
    session = await manager.prompt(sid, "quick follow-up")
    assert session["state"] == "running"
    assert [q["text"] for q in session["queue"]] == ["quick follow-up"]
    queued = await wait.kind(sid, "message_queued")
    sent = await wait.event(sid, lambda e: e["kind"] == "user_message" and e["data"].get("queued_id"))
    assert sent["turn"] == 2 and sent["data"] == {"text": "quick follow-up", "queued_id": queued["data"]["id"]}
    await wait.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 2)
    assert manager.get(sid)["queue"] == []


async def test_queued_messages_can_be_edited_and_removed_and_survive_an_interrupt(manager, wait):
    sid = await running(manager, wait)
    first = (await manager.prompt(sid, "quick one", when="queue"))["queue"][0]["id"]
    second = (await manager.prompt(sid, "quick two"))["queue"][1]["id"]
    third = (await manager.prompt(sid, "quick three"))["queue"][2]["id"]
    await manager.edit_queued(sid, second, "quick two, edited")
    session = await manager.remove_queued(sid, third)
    assert [q["text"] for q in session["queue"]] == ["quick one", "quick two, edited"]
    with pytest.raises(UnknownQueuedMessage, match="no queued message"):
        await manager.remove_queued(sid, third)
    with pytest.raises(InvalidRequest, match="non-empty"):
        await manager.edit_queued(sid, first, "  ")
    await manager.interrupt(sid)
    await wait.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 3)
    messages = user_messages(manager, sid)
    assert [(turn, data["text"]) for turn, data in messages] == [
        (1, LONG), (2, "quick one"), (3, "quick two, edited")]
    assert manager.get(sid)["queue"] == []


async def test_send_now_interrupts_the_turn_and_sends_the_message_in_one_action(manager, wait):
    sid = await running(manager, wait)
    await manager.prompt(sid, "quick later")
    session = await manager.prompt(sid, "quick right now", when="now")
    assert session["state"] == "running"
    ends = [e for e in manager.events(sid) if e["kind"] == "turn_end"]
    assert ends[0]["data"]["stop_reason"] == "cancelled"
    await wait.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 3)
    assert [d["text"] for _, d in user_messages(manager, sid)] == [LONG, "quick right now", "quick later"]


async def test_send_now_of_a_queued_message(manager, wait):
    sid = await running(manager, wait)
    queued = (await manager.prompt(sid, "quick queued"))["queue"][0]["id"]
    await manager.send_queued_now(sid, queued)
    await wait.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 2)
    assert [d["text"] for _, d in user_messages(manager, sid)] == [LONG, "quick queued"]
    removed = [e["data"] for e in manager.events(sid) if e["kind"] == "queued_message_removed"]
    assert removed == [{"id": queued, "reason": "sent now"}]


async def test_native_steering_puts_the_message_into_the_running_turn(manager, wait):
    sid = await running(manager, wait, agent="demo-steer", prompt="edit wait 0.5; create steered.txt x")
    session = await manager.prompt(sid, "also mind the tests", when="now")
    assert session["queue"] == [] and session["state"] == "running"
    steered = next(d for turn, d in user_messages(manager, sid) if d.get("steered"))
    assert steered["text"] == "also mind the tests"
    end = await wait.turn_end(sid)
    assert end["turn"] == 1 and end["data"]["stop_reason"] == "end_turn"   # not interrupted
    assert "Noted while working: “also mind the tests”" in wait.text(sid, 1)


async def test_messages_are_queued_while_paused_but_send_now_is_refused(manager, wait):
    sid = await running(manager, wait)
    await manager.pause(sid)
    assert (await manager.prompt(sid, "quick after pause"))["queue"][0]["text"] == "quick after pause"
    with pytest.raises(IllegalControl, match="paused.*Resume it first, or queue the message"):
        await manager.prompt(sid, "now!", when="now")
    with pytest.raises(InvalidRequest, match="when must be one of: queue, now"):
        await manager.prompt(sid, "x", when="later")
    await manager.resume(sid)
    await manager.interrupt(sid)
    await wait.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 2)


async def test_a_stopped_session_refuses_messages_with_advice(manager, wait):
    session = await manager.start_session("demo")
    await manager.stop(session["id"])
    with pytest.raises(IllegalControl, match="Resume it"):
        await manager.prompt(session["id"], "hello")


async def test_the_queue_survives_a_restart_and_is_sent_on_resume(open_manager, make_waiter):
    manager = await open_manager(permission_policy="allow")
    wait = make_waiter(manager)
    sid = await running(manager, wait)
    await manager.prompt(sid, "quick after restart")
    await manager.close()
    reopened = await open_manager(permission_policy="allow")
    wait = make_waiter(reopened)
    assert [q["text"] for q in reopened.get(sid)["queue"]] == ["quick after restart"]
    await reopened.resume(sid)
    sent = await wait.event(sid, lambda e: e["kind"] == "user_message" and e["data"].get("queued_id"))
    assert sent["data"]["text"] == "quick after restart"


async def test_fork_at_the_latest_turn_uses_the_agents_own_fork(manager, wait):
    pid = await two_turns(manager, wait, "demo", "quick first", "quick second")
    child = await manager.fork(pid)
    cid = child["id"]
    assert child["turns"] == 2 and child["state"] == "idle" and "(fork at turn 2)" in child["title"]
    origin = next(e for e in manager.events(cid) if e["kind"] == "forked_from")
    assert origin["data"]["session"] == pid and origin["data"]["turn"] == 2 and origin["data"]["via"] == "native"
    assert [d["text"] for _, d in user_messages(manager, cid)] == ["quick first", "quick second"]
    await manager.prompt(cid, "recall")
    await wait.event(cid, lambda e: e["kind"] == "turn_end" and e["turn"] == 3)
    assert "quick first" in wait.text(cid, 3) and "quick second" in wait.text(cid, 3)
    assert manager.get(pid)["workspace"]["forks"][0]["session"] == cid
    assert manager.get(cid)["workspace"]["forked_from"] == {"session": pid, "turn": 2}


async def test_fork_at_an_earlier_turn_is_seeded_with_the_transcript_up_to_it(manager, wait):
    pid = await two_turns(manager, wait, "demo-nofork", "quick alpha", "quick beta")
    child = await manager.fork(pid, turn=1, title="Try another way")
    cid = child["id"]
    assert child["title"] == "Try another way" and child["turns"] == 1
    origin = next(e for e in manager.events(cid) if e["kind"] == "forked_from")
    assert origin["data"]["via"] == "seeded"
    resume = next(e for e in manager.events(cid) if e["kind"] == "resume")
    assert "cannot fork" in resume["data"]["detail"]
    await manager.prompt(cid, "recall")
    await wait.event(cid, lambda e: e["kind"] == "turn_end" and e["turn"] == 2)
    assert "quick alpha" in wait.text(cid, 2) and "quick beta" not in wait.text(cid, 2)


@pytest.mark.parametrize("agent, turn, via", [("demo", 2, "native"), ("demo-nofork", 1, "seeded")])
async def test_a_fork_keeps_the_mode_and_model_its_parent_was_set_to(manager, wait, agent, turn, via):
    pid = await two_turns(manager, wait, agent, "quick first", "quick second")
    await manager.configure(pid, "mode", "plan")
    await manager.configure(pid, "model", "demo-thorough")
    child = await manager.fork(pid, turn=turn)
    cid = child["id"]
    assert next(e for e in manager.events(cid) if e["kind"] == "forked_from")["data"]["via"] == via
    assert (child["mode"], child["model"]) == ("plan", "demo-thorough")
    # Set on the fork's own agent session, not only shown: the agent answers in that mode.
    await manager.prompt(cid, "write fork-notes.txt")
    await wait.event(cid, lambda e: e["kind"] == "turn_end" and e["turn"] == turn + 1)
    assert kinds(manager, cid, "permission_request", after_turn=turn) == []   # plan mode writes nothing
    assert not (Path(manager.get(cid)["cwd"]) / "fork-notes.txt").exists()
    assert (manager.get(cid)["mode"], manager.get(cid)["model"]) == ("plan", "demo-thorough")


def kinds(manager, sid, kind, after_turn):
    return [e for e in manager.events(sid) if e["kind"] == kind and (e["turn"] or 0) > after_turn]


async def test_fork_refuses_what_cannot_be_forked(manager, wait):
    fresh = await manager.start_session("demo")
    with pytest.raises(InvalidRequest, match="no turn yet"):
        await manager.fork(fresh["id"])
    sid = await running(manager, wait)
    with pytest.raises(IllegalControl, match="still running that turn"):
        await manager.fork(sid, turn=1)
    with pytest.raises(InvalidRequest, match="turns 1 to 1; cannot fork at turn 5"):
        await manager.fork(sid, turn=5)


async def test_a_fork_of_a_worktree_session_gets_its_own_worktree_with_the_files_of_that_turn(
        manager, wait, workdir):
    project = make_repo(workdir / "proj", {"app.py": "A = 1\n"})
    parent = await manager.start_session("demo", str(project), prompt="edit append app.py TURN1", isolate=True)
    pid = parent["id"]
    await wait.checkpointed(pid)
    seq = manager.get(pid)["last_seq"]
    await manager.prompt(pid, "edit append app.py TURN2")
    await wait.checkpointed(pid, seq)
    child = await manager.fork(pid, turn=1)
    tree = child["workspace"]["worktree"]
    assert tree["path"] != parent["workspace"]["worktree"]["path"] and tree["base"] == "main"
    with open(f"{tree['path']}/app.py") as file:
        assert file.read() == "A = 1\nTURN1\n"
    with open(f"{parent['workspace']['worktree']['path']}/app.py") as file:
        assert file.read() == "A = 1\nTURN1\nTURN2\n"
    assert (project / "app.py").read_text() == "A = 1\n"
