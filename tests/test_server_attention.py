""""Needs you" and renaming, over HTTP: one truth in the server that every surface reads.

A session needs its user while a permission request waits, after a turn that ended on its own
until a view showed it (`POST …/seen`), and after a failure until seen. Every surface reads the
same `needs_you` field; the sessions stream carries each change to all of them at once.
"""

from __future__ import annotations

import pytest


async def test_a_finished_turn_needs_you_until_seen(glue_api):
    sid = (await glue_api.start(prompt="quick"))["id"]
    done = await glue_api.wait_for(sid, lambda s: s["state"] == "idle" and s["turns"] == 1)
    # The turn's changes (turn_changes) are recorded just after idle: the log's last event.
    await glue_api.wait_event(sid, lambda e: e["kind"] == "turn_changes")
    turn_end = [e for e in await glue_api.events(sid) if e["kind"] == "turn_end"][-1]
    assert done["needs_you"] == "turn_done"
    assert done["attention_seq"] == turn_end["seq"] > done["seen_seq"]

    # Seen only up to before the turn's end: it still needs you.
    partly = await glue_api.ok("POST", "sessions", sid, "seen", body={"seq": turn_end["seq"] - 1})
    assert partly["needs_you"] == "turn_done" and partly["seen_seq"] == turn_end["seq"] - 1

    everything = await glue_api.ok("POST", "sessions", sid, "seen", body={})
    assert everything["needs_you"] is None and everything["seen_seq"] == everything["last_seq"]
    # Never backwards; a seq beyond the log counts as all of it.
    back = await glue_api.ok("POST", "sessions", sid, "seen", body={"seq": 1})
    assert back["seen_seq"] == everything["seen_seq"]
    beyond = await glue_api.ok("POST", "sessions", sid, "seen", body={"seq": 10**30})
    assert beyond["seen_seq"] == everything["last_seq"]
    assert (await glue_api.ok("GET", "sessions", sid))["needs_you"] is None


async def test_interrupts_and_stops_are_the_users_own_doing(glue_api):
    sid = (await glue_api.start(prompt="sleep a while"))["id"]
    interrupted = await glue_api.control(sid, "interrupt")
    assert interrupted["needs_you"] is None
    stopped = await glue_api.control(sid, "stop")
    assert stopped["needs_you"] is None


async def test_a_prompt_or_resume_counts_as_seen(glue_api):
    sid = (await glue_api.start(prompt="quick"))["id"]
    await glue_api.wait_for(sid, lambda s: s["needs_you"] == "turn_done")
    running = await glue_api.control(sid, "prompt", text="sleep again")
    assert running["needs_you"] is None and running["seen_seq"] > 0
    await glue_api.control(sid, "pause")
    resumed = await glue_api.control(sid, "resume")
    assert resumed["needs_you"] is None


async def test_permission_then_failure(glue_api):
    sid = (await glue_api.start(prompt="write needs-you.txt"))["id"]
    waiting = await glue_api.wait_for(sid, lambda s: s["pending_permissions"] == 1)
    assert waiting["needs_you"] == "permission"
    # Seeing the request does not answer it.
    assert (await glue_api.ok("POST", "sessions", sid, "seen"))["needs_you"] == "permission"
    request = await glue_api.wait_event(sid, lambda e: e["kind"] == "permission_request")
    await glue_api.ok("POST", "sessions", sid, "permissions", request["data"]["request_id"],
                      body={"option_id": "allow"})
    done = await glue_api.wait_for(sid, lambda s: s["state"] == "idle" and s["pending_permissions"] == 0)
    assert done["needs_you"] == "turn_done"

    before = (await glue_api.ok("GET", "sessions", sid))["last_seq"]
    await glue_api.control(sid, "prompt", text="crash now")
    failed = await glue_api.wait_for(sid, "failed")
    assert failed["needs_you"] == "failed"
    # Straight from running to failed: no moment "idle, turn finished" for surfaces to signal.
    states = [e["data"]["state"] for e in await glue_api.events(sid, before) if e["kind"] == "state"]
    assert states == ["running", "failed"]
    assert (await glue_api.ok("POST", "sessions", sid, "seen"))["needs_you"] is None


async def test_every_surface_hears_of_it_on_the_sessions_stream(glue_api):
    sid = (await glue_api.start(prompt="quick"))["id"]
    await glue_api.wait_for(sid, lambda s: s["needs_you"] == "turn_done")
    stream = await glue_api.stream()
    try:
        snapshot = await stream.next()
        assert snapshot["type"] == "snapshot" and snapshot["sessions"][0]["needs_you"] == "turn_done"
        await glue_api.ok("POST", "sessions", sid, "seen")
        while (change := await stream.next())["type"] != "session" or change["session"]["needs_you"]:
            pass
        assert change["session"]["id"] == sid
    finally:
        stream.close()


@pytest.mark.parametrize(("body", "says"), [
    ({"seq": -1}, "0 or more"),
    ({"seq": "5"}, "must be an integer"),
    ({"seq": True}, "must be an integer"),
    ({"until": 5}, "Unknown field(s): until"),
])
async def test_malformed_seen_is_400(glue_api, body, says):
    sid = (await glue_api.start())["id"]
    status, reply = await glue_api.request("POST", "sessions", sid, "seen", body=body)
    assert status == 400 and says in reply["message"], reply


async def test_rename_in_any_state_everyone_sees_it(glue_api):
    sid = (await glue_api.start(title="Old name"))["id"]
    await glue_api.wait_for(sid, "idle")
    renamed = await glue_api.ok("PATCH", "sessions", sid, body={"title": "  New\n name  "})
    assert renamed["title"] == "New name"
    assert [s["title"] for s in (await glue_api.ok("GET", "sessions"))["sessions"]] == ["New name"]
    assert [s["id"] for s in (await glue_api.ok("GET", "sessions", params={"q": "New"}))["sessions"]] == [sid]
    info = [e for e in await glue_api.events(sid) if e["kind"] == "session_info"]
    assert info[-1]["data"] == {"title": "New name", "renamed": True}

    await glue_api.control(sid, "stop")
    assert (await glue_api.ok("PATCH", "sessions", sid, body={"title": "Stopped, renamed"}))["title"] \
        == "Stopped, renamed"


@pytest.mark.parametrize(("body", "says"), [
    ({}, "Missing field: title"),
    ({"title": "   "}, "must not be empty"),
    ({"title": 7}, "must be a string"),
    ({"title": "x" * 201}, "the limit is 200 (c.GlueApp.max_title_length)"),
])
async def test_malformed_rename_is_400_and_keeps_the_title(glue_api, body, says):
    sid = (await glue_api.start(title="Kept"))["id"]
    status, reply = await glue_api.request("PATCH", "sessions", sid, body=body)
    assert status == 400 and says in reply["message"], reply
    assert (await glue_api.ok("GET", "sessions", sid))["title"] == "Kept"


async def test_search_results_say_where_they_matched(glue_api):
    sid = (await glue_api.start(prompt="quick, about the pelican7781 in the room", title="Birds"))["id"]
    await glue_api.wait_for(sid, "idle")
    [found] = (await glue_api.ok("GET", "sessions", params={"q": "pelican7781"}))["sessions"]
    match = found["match"]
    user = next(e for e in await glue_api.events(sid) if e["kind"] == "user_message")
    assert match["source"] == "user" and match["seq"] == user["seq"] and match["turn"] is None
    [(start, end)] = match["highlights"]
    assert match["text"][start:end] == "pelican7781" and "room" in match["text"]
    reply = (await glue_api.ok("GET", "sessions", params={"q": "answer"}))["sessions"][0]["match"]
    assert reply["source"] == "agent" and reply["turn"] == 1 and reply["seq"] is None
    # A title match still says so; the plain list has no match field.
    assert (await glue_api.ok("GET", "sessions", params={"q": "birds"}))["sessions"][0]["match"]["source"] == "title"
    assert "match" not in (await glue_api.ok("GET", "sessions"))["sessions"][0]
