"""Checkpoints, changes, rewind and worktrees through the engine, with real demo agents that
edit, create, delete and rename files and run a command that writes."""

from __future__ import annotations

import os

import pytest

from glue_jupyter.engine import IllegalControl, InvalidRequest
from glue_jupyter.engine.errors import UnknownCheckpoint, WorkspaceConflict
from gitrepos import git, make_lived_in_repo, make_repo, tree_of, user_state

EDITS = ("edit append src/app.py # touched by the agent; create src/new.py NEW = 1; delete data/table.csv; "
         "rename notes.txt docs/notes.txt; chmod src/new.py; run echo built > out.txt")


@pytest.fixture
async def manager(open_manager):
    return await open_manager(permission_policy="allow")


@pytest.fixture
def repo(workdir, tmp_path):
    return make_lived_in_repo(workdir / "project", make_repo(tmp_path / "libsrc", {"lib.py": "L = 1\n"}))


def changed(changes: dict) -> dict[str, str]:
    return {c["path"]: c["status"] for c in changes["changes"]}


async def test_a_turn_of_real_edits_is_checkpointed_and_its_changes_listed(manager, wait, repo):
    state = user_state(repo)
    session = await manager.start_session("demo", str(repo), prompt=EDITS)
    sid = session["id"]
    summary = await wait.kind(sid, "turn_changes")
    assert summary["data"]["files"] == 5 and summary["data"]["turn"] == 1 and summary["turn"] is None  # recorded after the turn, outside it
    changes = await manager.workspaces.changes(sid, 1)
    assert changed(changes) == {"src/app.py": "modified", "src/new.py": "added", "data/table.csv": "deleted",
                                "docs/notes.txt": "renamed", "out.txt": "added"}
    new = next(c for c in changes["changes"] if c["path"] == "src/new.py")
    assert new["new_mode"] == "100755" and "+NEW = 1" in new["diff"]
    assert next(c for c in changes["changes"] if c["path"] == "docs/notes.txt")["old_path"] == "notes.txt"
    # Checkpoints took nothing from the user: same HEAD, index, stash; only the agent's edits in status.
    after = user_state(repo)
    assert (after["HEAD"], after["index"], after["stash"], after["branches"]) == (
        state["HEAD"], state["index"], state["stash"], state["branches"])


async def test_changes_of_a_running_turn_are_live_and_rewind_is_refused_meanwhile(manager, wait, repo):
    session = await manager.start_session("demo", str(repo), prompt="edit create a.txt first; wait 30; create b.txt")
    sid = session["id"]
    await wait.event(sid, lambda e: e["kind"] == "tool_call_update" and e["data"].get("status") == "completed"
                     and any(c.get("type") == "diff" for c in e["data"].get("content") or []))
    live = await manager.workspaces.changes(sid, 1)
    assert live["live"] is True and changed(live) == {"a.txt": "added"}
    with pytest.raises(IllegalControl, match=r"Cannot rewind the files of “.*” \(\w{8}\): it is running\. "
                                             r"Wait for the turn to end, or interrupt it first\."):
        await manager.workspaces.rewind(sid, to_turn=1)
    await manager.interrupt(sid)
    await wait.kind(sid, "turn_changes")
    # Nothing is recorded as part of the interrupted turn after its end, checkpoint included.
    end = next(e for e in manager.events(sid) if e["kind"] == "turn_end")
    assert [e["kind"] for e in manager.events(sid, after_seq=end["seq"]) if e["turn"] == 1] == []
    result = await manager.workspaces.rewind(sid, to_turn=1)
    assert not (repo / "a.txt").exists()
    assert result["rewind"]["undo"] == "rewind-1" and result["session"]["state"] == "idle"
    recorded = await wait.kind(sid, "rewind")
    assert recorded["data"]["to"] == "turn-1-before" and recorded["data"]["files"] == 1


async def test_rewind_across_several_turns_and_undo(manager, wait, repo):
    start = tree_of(repo)
    session = await manager.start_session("demo", str(repo), prompt="edit create one.txt 1; append src/util.py Y = 1")
    sid = session["id"]
    await wait.checkpointed(sid)
    seq = manager.get(sid)["last_seq"]
    await manager.prompt(sid, "edit delete one.txt; create two/three.txt 3; run mkdir -p gen && echo x > gen/x")
    await wait.kind(sid, "turn_changes", after_seq=seq)
    after_two = tree_of(repo)
    preview = await manager.workspaces.rewind_preview(sid, to_turn=1)
    assert set(changed(preview)) == {"src/util.py", "two/three.txt", "gen/x"}  # one.txt: gone either way
    await manager.workspaces.rewind(sid, to_turn=1)
    assert tree_of(repo) == start
    assert not (repo / "two").exists() and not (repo / "gen").exists()   # emptied folders go too
    await manager.workspaces.rewind(sid, to_checkpoint="rewind-1")
    assert tree_of(repo) == after_two
    names = [c["name"] for c in await manager.workspaces.checkpoints(sid)]
    assert {"turn-1-before", "turn-1-after", "turn-2-before", "turn-2-after", "rewind-1", "rewind-2"} <= set(names)


async def test_rewind_is_refused_while_another_session_runs_in_the_same_folder(manager, wait, repo):
    first = await manager.start_session("demo", str(repo), prompt="edit create mine.txt 1")
    await wait.checkpointed(first["id"])
    other = await manager.start_session("demo", str(repo / "src"), prompt="edit wait 30")
    with pytest.raises(IllegalControl, match=rf"“edit wait 30” \({other['id'][:8]}\) is running in the same folder"):
        await manager.workspaces.rewind(first["id"], to_turn=1)
    assert (repo / "mine.txt").exists()
    await manager.interrupt(other["id"])
    await manager.workspaces.rewind(first["id"], to_turn=1)
    assert not (repo / "mine.txt").exists()


async def test_bad_rewind_requests_are_refused_clearly(manager, wait, repo):
    session = await manager.start_session("demo", str(repo), prompt="quick")
    sid = session["id"]
    await wait.kind(sid, "turn_changes")
    with pytest.raises(InvalidRequest, match="to_turn .* or to_checkpoint"):
        await manager.workspaces.rewind(sid)
    with pytest.raises(InvalidRequest, match="turn number"):
        await manager.workspaces.rewind(sid, to_turn=0)
    with pytest.raises(UnknownCheckpoint, match="no checkpoint 'before turn 7'"):
        await manager.workspaces.rewind(sid, to_turn=7)
    with pytest.raises(UnknownCheckpoint, match="has no turn 3"):
        await manager.workspaces.changes(sid, 3)
    with pytest.raises(InvalidRequest, match="not a checkpoint name"):
        await manager.workspaces.rewind(sid, to_checkpoint="refs/heads/main")


async def test_a_session_outside_git_gets_checkpoints_of_its_folder(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="edit append utils.py # more")
    sid = session["id"]
    await wait.kind(sid, "turn_changes")
    changes = await manager.workspaces.changes(sid, 1)
    assert changes["kind"] == "folder" and changed(changes) == {"utils.py": "modified"}
    assert manager.get(sid)["workspace"]["checkpoints"] == "folder"
    await manager.workspaces.rewind(sid, to_turn=1)
    assert (workdir / "utils.py").read_text() == "def load():\n    return 1\n"


async def test_checkpoints_can_be_turned_off(open_manager, make_waiter, workdir):
    manager = await open_manager(checkpoints=False, permission_policy="allow")
    wait = make_waiter(manager)
    session = await manager.start_session("demo", str(workdir), prompt="quick")
    notice = await wait.kind(session["id"], "notice")
    assert "Checkpoints are turned off" in notice["data"]["text"]
    await wait.state(session["id"], "idle")
    with pytest.raises(UnknownCheckpoint, match="turned off"):
        await manager.workspaces.changes(session["id"], 1)


async def test_a_crash_in_the_middle_of_a_rewind_is_finished_when_the_engine_opens_again(
        open_manager, make_waiter, repo, monkeypatch):
    from glue_jupyter.engine.workspace import rewind as rewind_module

    manager = await open_manager(permission_policy="allow")
    wait = make_waiter(manager)
    start = tree_of(repo)
    ops = "; ".join(f"create gen/{i}.txt {i}" for i in range(12))
    session = await manager.start_session("demo", str(repo), prompt=f"edit {ops}")
    sid = session["id"]
    await wait.checkpointed(sid)
    real = rewind_module.apply

    def crash(root, steps, blobs):
        real(root, steps[:5], blobs)
        raise SystemExit("killed")   # like kill -9: no handler of ours runs

    monkeypatch.setattr(rewind_module, "apply", crash)
    with pytest.raises(SystemExit):
        await manager.workspaces.rewind(sid, to_turn=1)
    monkeypatch.setattr(rewind_module, "apply", real)
    assert tree_of(repo) not in (start,)
    await manager.close()

    reopened = await open_manager(permission_policy="allow")
    assert tree_of(repo) == start
    texts = [e["data"]["text"] for e in reopened.events(sid) if e["kind"] == "notice"]
    assert any("finished on restart" in t for t in texts)


async def test_an_isolated_session_works_in_its_worktree_and_merges_back(manager, wait, workdir):
    project = make_repo(workdir / "proj", {"app.py": "A = 1\n"})
    session = await manager.start_session("demo", str(project), prompt="edit append app.py A = 2", isolate=True)
    sid = session["id"]
    tree = session["workspace"]["worktree"]
    assert session["cwd"] == tree["path"] != str(project)
    await wait.checkpointed(sid)
    assert (project / "app.py").read_text() == "A = 1\n"
    status = await manager.workspaces.worktree(sid)
    assert status["uncommitted"] == 1 and [c["path"] for c in status["changes"]] == ["app.py"]
    note = next(e for e in manager.events(sid) if e["kind"] == "worktree")
    assert "uncommitted changes" in note["data"]["note"]
    result = await manager.workspaces.merge(sid)
    assert result["merge"]["how"] == "fast-forward"
    assert (project / "app.py").read_text() == "A = 1\nA = 2\n"
    await manager.stop(sid)
    await manager.forget(sid)
    assert not os.path.exists(tree["path"])
    assert git(project, "for-each-ref", "refs/glue/") == ""


async def test_two_isolated_sessions_editing_one_file_never_see_each_other(manager, wait, workdir):
    project = make_repo(workdir / "proj", {"app.py": "A = 1\n"})
    one = await manager.start_session("demo", str(project), prompt="edit append app.py ONE", isolate=True)
    two = await manager.start_session("demo", str(project), prompt="edit append app.py TWO", isolate=True)
    for s in (one, two):
        await wait.kind(s["id"], "turn_changes")
    text = {s["id"]: open(os.path.join(s["workspace"]["worktree"]["path"], "app.py")).read() for s in (one, two)}
    assert text == {one["id"]: "A = 1\nONE\n", two["id"]: "A = 1\nTWO\n"}
    await wait.state(one["id"], "idle")
    await wait.state(two["id"], "idle")
    await manager.workspaces.merge(one["id"])
    with pytest.raises(WorkspaceConflict, match=r"would conflict in: app\.py"):
        await manager.workspaces.merge(two["id"])
    assert (project / "app.py").read_text() == "A = 1\nONE\n"


async def test_isolate_outside_git_is_refused_before_anything_starts(manager, workdir):
    with pytest.raises(WorkspaceConflict, match="needs a git repository"):
        await manager.start_session("demo", str(workdir), isolate=True)
    assert manager.list_sessions() == []
