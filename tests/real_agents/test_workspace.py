"""Checkpoints, rewind, the queue and "send now" with the real agents (see agents.REAL_AGENTS),
offline against their fake models: what a real agent writes is in its turn's changes and is
rewound exactly; a message sent while it works waits, or steers the turn where the agent
advertises native steering (Claude's adapter does), else interrupts it."""

from __future__ import annotations

from fake_models.server import FILE_CONTENT


async def test_a_real_agents_writes_are_checkpointed_rewound_and_messages_queue(drive):
    d = await drive()
    (d.workdir / "notes.md").write_text("mine, before the agent\n")
    sid = await d.start()
    await d.manager.prompt(sid, "[[write written.txt]]")
    request = await d.kind(sid, "permission_request")
    await d.answer(sid, request, "allow_once")
    await d.turn_end(sid, 1)
    summary = await d.kind(sid, "turn_changes")
    assert [(c["path"], c["status"]) for c in summary["data"]["changes"]] == [("written.txt", "added")]
    changes = await d.manager.workspaces.changes(sid, 1)
    assert "+" + FILE_CONTENT.splitlines()[0] in changes["changes"][0]["diff"]
    await d.idle(sid)
    done = await d.manager.workspaces.rewind(sid, to_turn=1)
    assert done["rewind"]["files"] == 1
    assert not (d.workdir / "written.txt").exists()
    assert (d.workdir / "notes.md").read_text() == "mine, before the agent\n"

    # While it streams a slow reply: a message waits in the queue and goes when the turn ends.
    await d.manager.prompt(sid, "[[slow]]")
    await d.event(sid, lambda e: e["kind"] == "agent_message_chunk" and "word" in e["data"]["text"])
    queued = await d.manager.prompt(sid, "Hello")
    assert [q["text"] for q in queued["queue"]] == ["Hello"]
    await d.manager.interrupt(sid)
    await d.turn_end(sid, 3)
    sent = [e for e in d.events(sid, "user_message") if e["data"].get("queued_id")]
    assert [(e["turn"], e["data"]["text"]) for e in sent] == [(3, "Hello")]
    assert f"Hello from the fake {d.fake.vendor} model." in d.text(sid, 3)

    # "Send now" during a turn: natively steered where the agent says it can, else interrupt-and-send.
    await d.idle(sid)
    await d.manager.prompt(sid, "[[slow]]")
    await d.event(sid, lambda e: e["kind"] == "agent_message_chunk" and e["turn"] == 4 and "word" in e["data"]["text"])
    steers = d.manager.session(sid).driver.can_steer
    await d.manager.prompt(sid, "Hello", when="now")
    if steers:
        steered = await d.event(sid, lambda e: e["kind"] == "user_message" and e["data"].get("steered"))
        assert steered["turn"] == 4
    else:
        end = await d.turn_end(sid, 4)
        assert end["data"]["stop_reason"] == "cancelled"
        await d.turn_end(sid, 5)
        assert f"Hello from the fake {d.fake.vendor} model." in d.text(sid, 5)
