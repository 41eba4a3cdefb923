"""What a turn_end says the turn did: the files it changed and the commands it ran.

A file counts once the tool call that writes it completed; a write that was refused, failed or
interrupted changed nothing (Claude's Write sends its diff before asking, and the demo agent
names the file in its pending tool call, as Claude does).
"""

from __future__ import annotations


async def answer_and_end(manager, wait, sid: str, option: str) -> dict:
    request = await wait.kind(sid, "permission_request")
    await manager.answer_permission(sid, request["data"]["request_id"], option)
    return await wait.turn_end(sid)


async def test_an_allowed_write_is_a_file_the_turn_changed(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="write kept.md")
    end = await answer_and_end(manager, wait, session["id"], "allow")
    assert (workdir / "kept.md").exists()
    assert end["data"]["files"] == ["kept.md"] and end["data"]["commands"] == []


async def test_a_refused_write_changed_nothing(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="write refused.md")
    end = await answer_and_end(manager, wait, session["id"], "deny")
    assert not (workdir / "refused.md").exists()
    assert end["data"]["files"] == []


async def test_an_interrupted_write_changed_nothing(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="write cut.md")
    await wait.kind(session["id"], "permission_request")
    await manager.interrupt(session["id"])
    end = await wait.turn_end(session["id"])
    assert end["data"]["stop_reason"] == "cancelled"
    assert not (workdir / "cut.md").exists()
    assert end["data"]["files"] == []


async def test_a_turn_says_which_commands_it_ran(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="look around")
    end = await wait.turn_end(session["id"])
    assert end["data"]["commands"] == ["echo hello from the glue demo agent"]
    assert end["data"]["files"] == []
