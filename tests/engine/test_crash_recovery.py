"""A server killed in the middle of a turn: on the next open, the turn it cut is closed and the
permission request that was waiting is withdrawn, so no surface keeps a spinner or live buttons.

A real engine runs in a child process killed with SIGKILL (nothing of it runs after that).
"""

from __future__ import annotations

from pathlib import Path

from glue_jupyter.engine import SessionManager
from glue_jupyter.testing import child_engine

# A session whose turn waits on a permission request.
WAITING = """
    async def scene(manager, folder):
        session = await manager.start_session("demo", str(folder), prompt="write never.md")
        await manager.wait_for(session["id"], lambda s: s["pending_permissions"] == 1)
        return {"id": session["id"]}
"""


async def test_a_turn_cut_by_a_server_crash_is_closed_when_the_server_comes_back(tmp_path):
    engine, found = child_engine.run(tmp_path, WAITING)
    engine.kill()
    engine.wait()
    sid = found["id"]
    manager = SessionManager(child_engine.config(tmp_path))
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
        manager = SessionManager(child_engine.config(tmp_path))
        await manager.open()
        kinds = [e["kind"] for e in manager.events(sid)]
        assert kinds.count("turn_end") == 1 and kinds.count("permission_answer") == 1
    finally:
        if manager.store is not None:
            await manager.close()
