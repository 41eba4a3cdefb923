"""A server killed in the middle of a turn: on the next open, the turn it cut is closed and the
permission request that was waiting is withdrawn, so no surface keeps a spinner or live buttons.

A real engine runs in a child process killed with SIGKILL (nothing of it runs after that).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from glue_jupyter.engine import EngineConfig, SessionManager

# A session whose turn waits on a permission request, then waits to be killed.
ENGINE = textwrap.dedent("""
    import asyncio, json, sys
    from pathlib import Path
    from glue_jupyter.engine import EngineConfig, SessionManager

    async def main(folder):
        demo = [sys.executable, "-m", "glue_jupyter.agents.demo", "--pace", "0.02",
                "--state-dir", str(folder / "demo-state")]
        manager = SessionManager(EngineConfig(db_path=folder / "sessions.db", data_dir=folder / "data",
                                              root_dir=folder, agents={"demo": {"argv": demo}},
                                              stop_grace_period=2.0))
        await manager.open()
        session = await manager.start_session("demo", str(folder), prompt="write never.md")
        await manager.wait_for(session["id"], lambda s: s["pending_permissions"] == 1)
        print(json.dumps({"id": session["id"]}), flush=True)
        await asyncio.Event().wait()

    asyncio.run(main(Path(sys.argv[1])))
""")


async def test_a_turn_cut_by_a_server_crash_is_closed_when_the_server_comes_back(tmp_path):
    engine = subprocess.Popen([sys.executable, "-c", ENGINE, str(tmp_path)], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True)
    try:
        line = engine.stdout.readline()
        assert line, f"the engine did not start (exit {engine.poll()})"
        sid = json.loads(line)["id"]
    finally:
        engine.kill()
        engine.wait()
    manager = SessionManager(EngineConfig(db_path=tmp_path / "sessions.db", data_dir=tmp_path / "data",
                                          root_dir=tmp_path, agents={}, stop_grace_period=2.0))
    await manager.open()
    try:
        session = manager.get(sid)
        assert session["state"] == "failed" and session["pending_permissions"] == 0
        events = manager.events(sid)
        request = next(e for e in events if e["kind"] == "permission_request")
        after = [(e["kind"], e["turn"], e["data"]) for e in events if e["seq"] > request["seq"]]
        assert after[:2] == [
            ("permission_answer", 1, {"request_id": request["data"]["request_id"], "outcome": "cancelled",
                                      "by": "server_stopped"}),
            ("turn_end", 1, {"turn": 1, "stop_reason": "server_stopped", "files": [], "commands": []}),
        ]
        assert ("notice", None, {"level": "warning", "text": "The server stopped while this session was live."}) in after
        assert not (Path(tmp_path) / "never.md").exists()
        # Closed once: opening again adds nothing of the kind.
        await manager.close()
        manager = SessionManager(EngineConfig(db_path=tmp_path / "sessions.db", data_dir=tmp_path / "data",
                                              root_dir=tmp_path, agents={}, stop_grace_period=2.0))
        await manager.open()
        kinds = [e["kind"] for e in manager.events(sid)]
        assert kinds.count("turn_end") == 1 and kinds.count("permission_answer") == 1
    finally:
        if manager.store is not None:
            await manager.close()
