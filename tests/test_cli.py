"""`jupyter glue` as a real subprocess against the test server.

The server runs on this test's loop, so the CLI runs as an *async* subprocess: a blocking
`subprocess.run` would freeze the very server it talks to.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from client_fixtures import call, glue_client, glue_env, glue_ref  # noqa: F401 - fixtures

from glue_jupyter.pytest_plugin import REPO_ROOT


async def glue(*args, env=None, timeout=60):
    env = {**os.environ, "PYTHONPATH": REPO_ROOT, **(env or {})}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "glue_jupyter.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


async def glue_json(*args):
    code, out, err = await glue("--json", *args)
    assert code == 0, err
    return json.loads(out)


async def test_lifecycle_from_the_command_line(glue_env, glue_client, jp_root_dir):
    code, out, err = await glue("start", "--agent", "demo", "--cwd", str(jp_root_dir), "--title", "CLI", "quick")
    assert code == 0, err
    sid = out.split()[1]
    assert "started" in out and "\x1b[" not in out  # no colour when not a tty

    await call(glue_client.wait, sid, "idle", timeout=30)
    code, out, _ = await glue("list")
    assert "CLI" in out and sid[:8] in out and "idle" in out
    assert (await glue_json("list"))[0]["id"] == sid

    code, out, _ = await glue("show", sid[:8])
    assert "User: quick" in out and "Quick answer" in out

    # prompt, then follow the turn to its end over the WebSocket
    assert (await glue_json("prompt", sid, "hello"))["state"] == "running"
    code, out, err = await glue("show", sid, "--follow")
    assert code == 0, err
    assert "turn 2 ended: end_turn" in out and "-- idle" in out

    assert (await glue_json("pause", sid))["state"] == "paused"
    assert (await glue_json("resume", sid, "quick", "again"))["resumed_via"] == "thaw"
    await call(glue_client.wait, sid, "idle", timeout=30)
    assert (await glue_json("stop", sid))["state"] == "stopped"
    code, out, _ = await glue("forget", sid)
    assert code == 0 and f"forgot {sid}" in out
    assert await glue_json("list") == []


async def test_interrupt_a_running_turn(glue_env, glue_client, jp_root_dir):
    s = await call(glue_client.start, "demo", str(jp_root_dir), prompt="sleep")
    code, out, err = await glue("interrupt", s["id"])
    assert code == 0, err
    assert "interrupted" in out
    events = await call(glue_client.events, s["id"])
    assert [e["data"]["stop_reason"] for e in events if e["kind"] == "turn_end"] == ["cancelled"]


async def test_follow_json_streams_events(glue_env, glue_client, jp_root_dir):
    s = await call(glue_client.start, "demo", str(jp_root_dir), prompt="hello")
    code, out, err = await glue("--json", "show", s["id"], "--follow")
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1))  # no gap, no duplicate
    assert events[-1]["kind"] == "state" and events[-1]["data"]["state"] == "idle"


async def test_errors_are_one_line(glue_env, jp_root_dir):
    code, out, err = await glue("show", "0123456789abcdef0123456789abcdef")
    assert code == 1 and err.startswith("jupyter glue: error:") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1

    s = await glue_json("start", "--agent", "demo", "--cwd", str(jp_root_dir))
    code, _, err = await glue("interrupt", s["id"])
    assert code == 1 and "idle" in err and "Traceback" not in err

    code, _, err = await glue("start", "--agent", "nope")
    assert code == 1 and "nope" in err

    code, _, err = await glue("start", "--agent", "demo", "--cwd", "/etc")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "Folder /etc is outside" in err and "c.GlueApp.allowed_roots" in err

    code, out, _ = await glue("agents")
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert code == 0 and lines["AGENT"].split() == ["AGENT", "VERSION", "STATUS", "CAN", "DETAILS"]
    assert "native resume, adopt sessions" in lines["demo"]  # checked: started briefly and asked
    assert "not installed" in lines["missing"] and "It is never installed." in lines["missing"]
    agents = {a["name"]: a for a in await glue_json("agents", "--refresh")}
    assert agents["demo"]["check"]["ok"] and agents["demo"]["capabilities"]["load"] is True


async def test_no_server_says_how_to_start_one(tmp_path):
    env = {"JUPYTER_RUNTIME_DIR": str(tmp_path), "GLUE_JUPYTER_URL": "", "GLUE_JUPYTER_TOKEN": ""}
    code, out, err = await glue("list", env=env)
    assert code == 1 and out == ""
    assert err.strip() == (
        "jupyter glue: error: no running Jupyter server found; start one with `jupyter lab` "
        "(or pass --url/--token, or set GLUE_JUPYTER_URL)"
    )


async def test_url_and_token_flags(glue_ref, tmp_path):
    env = {"JUPYTER_RUNTIME_DIR": str(tmp_path), "GLUE_JUPYTER_URL": "", "GLUE_JUPYTER_TOKEN": ""}
    code, out, err = await glue("agents", "--url", glue_ref.url, "--token", glue_ref.token, env=env)
    assert code == 0, err
    code, _, err = await glue("--url", glue_ref.url, "--token", "bad", "list", env=env)
    assert code == 1 and "403" in err and "bad" not in err.replace("--token", "")


async def test_allow_and_deny_permission_requests(glue_env, glue_client, jp_root_dir):
    code, out, err = await glue("start", "--agent", "demo", "--cwd", str(jp_root_dir), "write allowed.md")
    assert code == 0, err
    sid = out.split()[1]
    code, out, err = await glue("show", sid, "--follow")  # stops where the agent waits for us
    assert code == 0 and f"jupyter glue allow {sid[:8]}" in out, err
    code, out, err = await glue("allow", sid[:8])
    assert code == 0 and "allowed" in out, err
    await call(glue_client.wait, sid, "idle", timeout=30)
    assert (jp_root_dir / "allowed.md").exists()

    code, out, err = await glue("deny", sid)
    assert code == 1 and "no permission request waiting" in err and "Traceback" not in err

    last = (await call(glue_client.get, sid))["last_seq"]
    assert (await glue_json("prompt", sid, "write denied.md"))["state"] == "running"
    await call(glue_client.wait_for_event, sid, "permission_request", after_seq=last, timeout=30)
    assert (await glue_json("deny", sid))["pending_permissions"] == 0
    await call(glue_client.wait, sid, "idle", timeout=30)
    assert not (jp_root_dir / "denied.md").exists()


async def test_list_marks_what_needs_you_first_and_show_marks_it_seen(glue_env, glue_client, jp_root_dir):
    """The side panel's triage in a terminal: needs you, then working, then the rest."""
    quiet = await glue_json("start", "--agent", "demo", "--cwd", str(jp_root_dir), "--title", "Quiet")
    done = await glue_json("start", "--agent", "demo", "--cwd", str(jp_root_dir), "--title", "Done", "quick")
    await call(glue_client.wait, done["id"], "idle", timeout=30)
    await call(glue_client.mark_seen, quiet["id"])  # nothing to see: it never ran a turn
    busy = await glue_json("start", "--agent", "demo", "--cwd", str(jp_root_dir), "--title", "Busy", "sleep")

    code, out, err = await glue("list")
    assert code == 0, err
    header, *lines = out.splitlines()
    assert header.split()[:3] == ["STATE", "NEEDS", "YOU"] and "ACTIVITY" in header
    titles = [next(t for t in ("Done", "Busy", "Quiet") if f" {t} " in line) for line in lines]
    assert titles == ["Done", "Busy", "Quiet"]
    assert "finished" in lines[0] and "just now" in lines[0]

    code, out, err = await glue("show", done["id"][:8])
    assert code == 0 and "Quick answer" in out, err
    assert (await call(glue_client.get, done["id"]))["needs_you"] is None
    code, out, _ = await glue("list")
    assert "finished" not in out
    await glue_json("stop", busy["id"])


async def test_rename_from_the_command_line(glue_env, glue_client, jp_root_dir):
    s = await glue_json("start", "--agent", "demo", "--cwd", str(jp_root_dir), "--title", "Before")
    code, out, err = await glue("rename", s["id"][:8], "After", "the", "rename")
    assert code == 0 and "renamed" in out, err
    assert (await call(glue_client.get, s["id"]))["title"] == "After the rename"
    code, _, err = await glue("rename", s["id"], " ")
    assert code == 1 and "must not be empty" in err and "Traceback" not in err
