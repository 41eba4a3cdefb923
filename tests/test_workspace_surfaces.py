"""`jupyter glue diff|rewind|checkpoints|worktree|merge|fork|queue` and `%glue` likewise, against
a real server, real git and the demo agent."""

from __future__ import annotations

import pytest
from client_fixtures import call, glue_client, glue_env, glue_ref  # noqa: F401 - fixtures
from test_cli import glue, glue_json
from test_magics import Notebook

from gitrepos import git, make_repo
from glue_jupyter.client.stream import _first_event


def wait_event(client, sid, predicate, timeout=30):
    """The first event matching `predicate`, from the log or live (blocking: use with call)."""
    event = _first_event(client, sid, 0, predicate, timeout)
    assert event is not None, "no such event in time"
    return event


@pytest.fixture
def glue_config(glue_config):
    return {**glue_config, "permission_policy": "allow"}


@pytest.fixture
def project(jp_root_dir):
    return make_repo(jp_root_dir / "project", {"app.py": "A = 1\n", "notes.md": "# Notes\n"})


async def settled_turn(glue_client, sid, turn):
    """The turn ended and its checkpoint summary is recorded."""
    await call(wait_event, glue_client, sid, lambda e: e["kind"] == "turn_changes" and e["data"]["turn"] == turn)
    await call(glue_client.wait, sid, "idle", timeout=30)


async def test_diff_and_rewind_from_the_command_line(glue_env, glue_client, project):
    session = await glue_json("start", "--agent", "demo", "--cwd", str(project),
                              "edit append app.py B = 2; create new.txt fresh; delete notes.md")
    sid = session["id"]
    await settled_turn(glue_client, sid, 1)

    code, out, err = await glue("diff", sid[:8])
    assert code == 0, err
    assert out.startswith("turn 1: 3 files changed, +2 −1")
    assert "M app.py  +1 −0" in out and "A new.txt  +1 −0" in out and "D notes.md  +0 −1" in out
    assert "+B = 2" in out and "\x1b[" not in out
    code, out, _ = await glue("diff", sid[:8], "--turn", "1", "--stat")
    assert "+B = 2" not in out and "M app.py" in out

    # Not a terminal: it shows what would change and refuses without --yes; nothing changes.
    code, out, err = await glue("rewind", sid[:8])
    assert code == 1 and "Rewinding to before turn 1 would change: 3 files changed" in out
    assert "pass --yes" in err and (project / "new.txt").exists()
    code, out, err = await glue("rewind", sid[:8], "--yes")
    assert code == 0, err
    assert "rewound 3 file(s) to before turn 1" in out and f"jupyter glue rewind {sid[:8]} --undo" in out
    assert not (project / "new.txt").exists() and (project / "app.py").read_text() == "A = 1\n"
    code, out, err = await glue("rewind", sid[:8], "--undo", "--yes")
    assert code == 0, err
    assert (project / "new.txt").exists()
    names = [c["name"] for c in await glue_json("checkpoints", sid[:8])]
    assert {"turn-1-before", "turn-1-after", "rewind-1", "rewind-2"} <= set(names)
    code, out, _ = await glue("rewind", sid[:8], "--to-turn", "5", "--yes")
    assert code == 1 and "no checkpoint 'before turn 5'" in _


async def test_queue_and_send_now_from_the_command_line(glue_env, glue_client, project):
    session = await glue_json("start", "--agent", "demo", "--cwd", str(project), "edit wait 30")
    sid = session["id"]
    await call(wait_event, glue_client, sid, lambda e: e["kind"] == "tool_call"
               and e["data"].get("title", "").startswith("Wait"))
    code, out, err = await glue("prompt", sid[:8], "quick", "first")
    assert code == 0 and "queued (1 waiting for the turn to end)" in out, err
    await glue("prompt", sid[:8], "quick", "second")
    code, out, _ = await glue("queue", sid[:8])
    assert "1. [" in out and "quick first" in out and "2. [" in out and "quick second" in out
    code, out, _ = await glue("queue", sid[:8], "2", "--edit", "quick second, edited")
    assert "quick second, edited" in out
    code, out, _ = await glue("queue", sid[:8], "1", "--remove")
    assert "quick first" not in out
    code, out, err = await glue("prompt", sid[:8], "--now", "quick", "now")
    assert code == 0, err
    await call(wait_event, glue_client, sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 3)
    messages = [e["data"]["text"] for e in await call(glue_client.events, sid) if e["kind"] == "user_message"]
    assert messages == ["edit wait 30", "quick now", "quick second, edited"]


async def test_worktree_merge_and_fork_from_the_command_line(glue_env, glue_client, project):
    code, out, err = await glue("start", "--agent", "demo", "--cwd", str(project), "--worktree",
                                "edit append app.py C = 3")
    assert code == 0 and "started in worktree" in out, err
    sid = out.split()[1]
    await settled_turn(glue_client, sid, 1)
    code, out, _ = await glue("worktree", sid[:8])
    assert "branch glue/" in out and "0 ahead, 0 behind main · 1 uncommitted" in out and "M app.py" in out
    code, out, err = await glue("merge", sid[:8])
    assert code == 0 and "fast-forward: glue/" in out and "→ main" in out, err
    assert (project / "app.py").read_text() == "A = 1\nC = 3\n"
    code, out, err = await glue("fork", sid[:8], "--title", "Plan B")
    assert code == 0 and f"forked from {sid[:8]} at turn 1" in out, err
    child = out.split()[1]
    assert (await call(glue_client.get, child))["workspace"]["worktree"]["path"] != \
        (await call(glue_client.get, sid))["workspace"]["worktree"]["path"]
    code, out, err = await glue("discard", child[:8])
    assert code == 1 and "pass --yes" in err


async def test_magics_show_diffs_rewind_in_two_steps_and_queue(glue_client, project, tmp_path):
    from glue_jupyter.magics import NotebookMemory

    nb = Notebook(glue_client, memory=NotebookMemory(str(tmp_path / "nb.json")))
    r = await nb.run(f"%glue start --agent demo --cwd {project} edit append app.py D = 4; create x.py X = 1")
    assert r.ok, r.text
    sid = nb.magics.current
    await settled_turn(glue_client, sid, 1)

    r = await nb.run("%glue diff")
    assert r.ok, r.text
    html = next(o["text/html"] for o in r.outputs if "text/html" in o)
    assert "Turn 1" in html and "2 files changed, +2 −0" in html and "color:#1a7f37'>+D = 4" in html

    r = await nb.run("%glue rewind")
    assert r.ok and "To do it: %glue rewind --yes" in r.stdout, r.text
    assert (project / "x.py").exists()
    r = await nb.run("%glue rewind --yes")
    assert r.ok and "rewound 2 file(s) to before turn 1" in r.stdout, r.text
    assert not (project / "x.py").exists()
    r = await nb.run("%glue rewind --undo --yes")
    assert r.ok and (project / "x.py").exists(), r.text

    r = await nb.run("%glue checkpoints")
    assert "turn-1-before" in r.text and "rewind-1" in r.text

    r = await nb.run("%glue rewind --to-turn x")
    assert not r.ok or "turn number" in r.text

    await call(glue_client.prompt, sid, "edit wait 30")
    await call(wait_event, glue_client, sid, lambda e: e["kind"] == "tool_call"
               and e["data"].get("title", "").startswith("Wait"))
    r = await nb.run("%%glue\nquick, after this turn")
    assert r.ok and "queued for" in r.stdout, r.text
    r = await nb.run("%glue queue --edit 1 quick, edited")
    assert "1. [" in r.stdout and "quick, edited" in r.stdout, r.text
    r = await nb.run("%glue queue --send-now 1")
    assert r.ok, r.text
    sent = await call(wait_event, glue_client, sid, lambda e: e["kind"] == "user_message" and e["turn"] == 3)
    assert sent["data"]["text"] == "quick, edited"

    r = await nb.run("%glue fork --turn 1 Other idea")
    assert r.ok and "forked" in r.stdout and "at turn 1" in r.stdout, r.text
    assert nb.magics.current != sid
    assert (await call(glue_client.get, nb.magics.current))["title"] == "Other idea"
    assert git(project, "status", "--porcelain")   # the edits are there, uncommitted, as the agent left them
