"""The workspace routes over HTTP: changes per turn, rewind (preview, refusal, undo), queued
messages, send now, worktree merge/discard, fork. A real server, real git, the demo agent."""

from __future__ import annotations

import pytest

from gitrepos import git, make_repo
from glue_jupyter.pytest_plugin import demo_argv


@pytest.fixture
def glue_config(glue_config, tmp_path):
    state = tmp_path / "glue_data" / "demo-agent"
    steer = {**glue_config["agents"]["demo"], "argv": demo_argv(state, "--steering")}
    return {**glue_config, "permission_policy": "allow", "agents": {**glue_config["agents"], "demo-steer": steer}}


@pytest.fixture
def project(jp_root_dir):
    return make_repo(jp_root_dir / "project", {"app.py": "A = 1\n", "docs/guide.md": "# Guide\n"})


async def finished_turn(glue_api, sid, turn):
    await glue_api.wait_event(sid, lambda e: e["kind"] == "turn_changes" and e["data"]["turn"] == turn)
    return await glue_api.wait_for(sid, "idle")


async def test_changes_of_a_turn_and_a_rewind_over_http(glue_api, project):
    session = await glue_api.start(prompt="edit append app.py B = 2; create docs/new.md hi; delete docs/guide.md",
                                   cwd="project")
    sid = session["id"]
    await finished_turn(glue_api, sid, 1)
    changes = await glue_api.ok("GET", "sessions", sid, "turns", "1", "changes")
    assert {c["path"]: c["status"] for c in changes["changes"]} == {
        "app.py": "modified", "docs/new.md": "added", "docs/guide.md": "deleted"}
    assert changes["files"] == 3 and changes["live"] is False and "+B = 2" in changes["changes"][0]["diff"]

    preview = await glue_api.ok("GET", "sessions", sid, "rewind", params={"to_turn": 1})
    assert preview["files"] == 3 and (project / "docs/new.md").exists()
    done = await glue_api.ok("POST", "sessions", sid, "rewind", body={"to_turn": 1})
    assert done["rewind"]["undo"] == "rewind-1" and done["session"]["id"] == sid
    assert (project / "app.py").read_text() == "A = 1\n" and (project / "docs/guide.md").exists()
    events = await glue_api.events(sid)
    assert [e["data"]["to"] for e in events if e["kind"] == "rewind"] == ["turn-1-before"]

    await glue_api.ok("POST", "sessions", sid, "rewind", body={"to_checkpoint": "rewind-1"})
    assert (project / "docs/new.md").exists()
    names = [c["name"] for c in (await glue_api.ok("GET", "sessions", sid, "checkpoints"))["checkpoints"]]
    assert names[:2] == ["turn-1-before", "turn-1-after"] and {"rewind-1", "rewind-2"} <= set(names)


async def test_rewind_while_running_is_refused_with_a_clear_message(glue_api, project):
    session = await glue_api.start(prompt="edit create x.txt 1; wait 30", cwd="project")
    sid = session["id"]
    await glue_api.wait_event(sid, lambda e: e["kind"] == "tool_call" and e["data"]["title"].startswith("Wait"))
    status, reply = await glue_api.request("POST", "sessions", sid, "rewind", body={"to_turn": 1})
    assert status == 409
    assert reply["message"] == (f"Cannot rewind the files of “edit create x.txt 1; wait 30” ({sid[:8]}): "
                                "it is running. Wait for the turn to end, or interrupt it first.")
    live = await glue_api.ok("GET", "sessions", sid, "turns", "1", "changes")
    assert live["live"] is True and [c["path"] for c in live["changes"]] == ["x.txt"]
    await glue_api.control(sid, "interrupt")


async def test_workspace_routes_refuse_bad_requests(glue_api, project):
    session = await glue_api.start(prompt="quick", cwd="project")
    sid = session["id"]
    await finished_turn(glue_api, sid, 1)
    cases = [
        ("GET", ("sessions", sid, "turns", "9", "changes"), None, None, 404, "has no turn 9"),
        ("GET", ("sessions", sid, "turns", "x", "changes"), None, None, 400, "turn must be an integer"),
        ("GET", ("sessions", "nope", "turns", "1", "changes"), None, None, 404, "No session"),
        ("POST", ("sessions", sid, "rewind"), {}, None, 400, "to_turn"),
        ("POST", ("sessions", sid, "rewind"), {"to_turn": "1"}, None, 400, "Field to_turn must be an integer"),
        ("POST", ("sessions", sid, "rewind"), {"to_turn": 4}, None, 404, "no checkpoint 'before turn 4'"),
        ("GET", ("sessions", sid, "rewind"), None, {"to_checkpoint": "HEAD"}, 400, "not a checkpoint name"),
        ("GET", ("sessions", sid, "worktree"), None, None, 409, "has no worktree of its own"),
        ("POST", ("sessions", sid, "worktree", "merge"), None, None, 409, "has no worktree of its own"),
        ("PATCH", ("sessions", sid, "queue", "abc"), {"text": "x"}, None, 404, "no queued message 'abc'"),
        ("POST", ("sessions", sid, "prompt"), {"text": "x", "when": "soon"}, None, 400, "when must be one of"),
        ("POST", ("sessions", sid, "fork"), {"turn": 3}, None, 400, "cannot fork at turn 3"),
    ]
    for method, path, body, params, status, message in cases:
        got, reply = await glue_api.request(method, *path, body=body, params=params)
        assert (got, message in reply["message"]) == (status, True), (method, path, got, reply)


async def test_queue_over_http_edit_remove_and_send_now(glue_api, project):
    session = await glue_api.start(prompt="edit wait 30", cwd="project")
    sid = session["id"]
    await glue_api.wait_event(sid, lambda e: e["kind"] == "tool_call" and e["data"]["title"].startswith("Wait"))
    queued = await glue_api.control(sid, "prompt", text="quick a")
    await glue_api.control(sid, "prompt", text="quick b", when="queue")
    first, second = (q["id"] for q in (await glue_api.ok("GET", "sessions", sid))["queue"])
    assert queued["queue"][0]["text"] == "quick a"
    edited = await glue_api.ok("PATCH", "sessions", sid, "queue", first, body={"text": "quick a, edited"})
    assert [q["text"] for q in edited["queue"]] == ["quick a, edited", "quick b"]
    removed = await glue_api.ok("DELETE", "sessions", sid, "queue", second)
    assert [q["id"] for q in removed["queue"]] == [first]
    now = await glue_api.ok("POST", "sessions", sid, "queue", first, "send")
    assert now["queue"] == [] and now["turns"] == 2
    sent = await glue_api.wait_event(sid, lambda e: e["kind"] == "user_message" and e["turn"] == 2)
    assert sent["data"]["text"] == "quick a, edited"
    ends = [e for e in await glue_api.events(sid) if e["kind"] == "turn_end"]
    assert ends[0]["data"]["stop_reason"] == "cancelled"


async def test_send_now_steers_an_agent_that_supports_it(glue_api, project):
    session = await glue_api.start(agent="demo-steer", prompt="edit wait 0.5; create after.txt x", cwd="project")
    sid = session["id"]
    await glue_api.wait_event(sid, lambda e: e["kind"] == "tool_call" and e["data"]["title"].startswith("Wait"))
    reply = await glue_api.control(sid, "prompt", text="use tabs", when="now")
    assert reply["turns"] == 1 and reply["queue"] == []
    steered = await glue_api.wait_event(sid, lambda e: e["kind"] == "user_message" and e["data"].get("steered"))
    assert steered["turn"] == 1
    end = await glue_api.wait_event(sid, lambda e: e["kind"] == "turn_end")
    assert end["data"]["stop_reason"] == "end_turn"


async def test_worktree_session_merge_and_discard_over_http(glue_api, project):
    session = await glue_api.ok("POST", "sessions", expect=201, body={
        "agent": "demo", "cwd": "project", "prompt": "edit append app.py C = 3", "isolate": True})
    sid = session["id"]
    path = session["workspace"]["worktree"]["path"]
    await finished_turn(glue_api, sid, 1)
    status = await glue_api.ok("GET", "sessions", sid, "worktree")
    assert status["branch"] == session["workspace"]["worktree"]["branch"] and status["base"] == "main"
    assert [c["path"] for c in status["changes"]] == ["app.py"] and status["uncommitted"] == 1
    merged = await glue_api.ok("POST", "sessions", sid, "worktree", "merge")
    assert merged["merge"]["how"] == "fast-forward"
    assert (project / "app.py").read_text() == "A = 1\nC = 3\n"
    await glue_api.control(sid, "prompt", text="edit create scratch.txt junk")
    await finished_turn(glue_api, sid, 2)
    discarded = await glue_api.ok("POST", "sessions", sid, "worktree", "discard")
    assert discarded["discard"]["undo"] == "discard-1"
    status = await glue_api.ok("GET", "sessions", sid, "worktree")
    assert status["changes"] == [] and status["ahead"] == 0
    await glue_api.control(sid, "stop")
    await glue_api.ok("DELETE", "sessions", sid, expect=204)
    assert git(project, "worktree", "list").count("\n") == 1 and path not in git(project, "worktree", "list")


async def test_fork_over_http(glue_api, project):
    session = await glue_api.start(prompt="quick one", cwd="project")
    sid = session["id"]
    await finished_turn(glue_api, sid, 1)
    fork = await glue_api.ok("POST", "sessions", sid, "fork", expect=201, body={"title": "Other idea"})
    assert fork["title"] == "Other idea" and fork["workspace"]["forked_from"] == {"session": sid, "turn": 1}
    parent = await glue_api.ok("GET", "sessions", sid)
    assert [f["session"] for f in parent["workspace"]["forks"]] == [fork["id"]]
    events = await glue_api.events(fork["id"])
    assert [e["data"]["text"] for e in events if e["kind"] == "user_message"] == ["quick one"]
