"""The blocking client against a real server with real demo agents."""

from __future__ import annotations

import pytest
from client_fixtures import call, glue_client, glue_env, glue_ref  # noqa: F401 - fixtures

from glue_jupyter.client import GlueClient, NoServerFound, ServerError, ServerRef
from glue_jupyter.client.resolve import resolve_id
from glue_jupyter.client.stream import follow_until_settled


async def test_every_route(glue_client, jp_root_dir):
    c = glue_client
    assert (await call(c.info))["limit"] == 3
    assert "demo" in [a["name"] for a in await call(c.agents)]
    s = await call(c.start, "demo", str(jp_root_dir), title="T", prompt="quick")
    assert s["title"] == "T" and s["cwd"] == str(jp_root_dir)
    s = await call(c.wait, s["id"], "idle", timeout=30)
    assert s["state"] == "idle" and s["turns"] == 1
    assert [x["id"] for x in await call(c.list_sessions, agent="demo")] == [s["id"]]
    assert await call(c.list_sessions, state="running") == []
    s = await call(c.prompt, s["id"], "write notes.txt")
    events = await _until_event(c, s["id"], "permission_request")
    req = events[-1]["data"]
    await call(c.answer_permission, s["id"], req["request_id"], "allow")
    s = await call(c.wait, s["id"], "idle", timeout=30)
    assert (jp_root_dir / "notes.txt").exists()
    assert (await call(c.pause, s["id"]))["state"] == "paused"
    assert (await call(c.resume, s["id"]))["resumed_via"] == "thaw"
    assert (await call(c.stop, s["id"]))["state"] == "stopped"
    evs = await call(c.events, s["id"], after_seq=2, limit=3)
    assert [e["seq"] for e in evs] == [3, 4, 5]
    await call(c.forget, s["id"])
    assert await call(c.list_sessions) == []


async def _until_event(c, sid, kind):
    return await call(lambda: list(_take_until(c, sid, kind)))


def _take_until(c, sid, kind):
    follower = c.follow(sid)
    try:
        for msg in follower:
            for ev in msg.get("events", ()):
                yield ev
                if ev["kind"] == kind:
                    return
    finally:
        follower.close()


async def test_server_errors_become_clean_exceptions(glue_client, jp_root_dir):
    c = glue_client
    with pytest.raises(ServerError, match="nope") as e:
        await call(c.get, "nope")
    assert e.value.status == 404
    s = await call(c.start, "demo", str(jp_root_dir))
    with pytest.raises(ServerError, match="idle") as e:
        await call(c.interrupt, s["id"])
    assert e.value.status == 409
    with pytest.raises(ServerError) as e:
        await call(c.start, "no-such-agent", str(jp_root_dir))
    assert e.value.status == 404 and "no-such-agent" in str(e.value)


async def test_bad_token_and_no_server(glue_ref):
    bad = GlueClient(ServerRef(glue_ref.url, "wrong"))
    with pytest.raises(ServerError) as e:
        await call(bad.info)
    assert e.value.status == 403 and "wrong" not in str(e.value)
    gone = GlueClient(ServerRef("http://127.0.0.1:9/", "secret"))
    with pytest.raises(NoServerFound, match="jupyter lab") as e:
        await call(gone.info)
    assert "secret" not in str(e.value)


async def test_follow_replays_then_goes_live_and_survives_a_drop(glue_client, jp_root_dir):
    c = glue_client
    s = await call(c.start, "demo", str(jp_root_dir), prompt="hello")
    await call(c.wait, s["id"], "idle", timeout=30)
    stored = await call(c.events, s["id"])

    def follow_with_a_drop():
        seen, follower = [], c.follow(s["id"])
        dropped = False
        for msg in follower:
            seen.extend(msg.get("events", ()))
            if not dropped and len(seen) >= 5:
                follower._ws.abort()  # the network goes away: the follower must reconnect
                dropped = True
            if msg["type"] == "live" and dropped:
                break
            if len(seen) >= len(stored) and dropped:
                break
        follower.close()
        return seen

    seen = await call(follow_with_a_drop)
    assert [e["seq"] for e in seen] == [e["seq"] for e in stored]


async def test_follow_until_settled_ends_with_the_turn(glue_client, jp_root_dir):
    c = glue_client
    s = await call(c.start, "demo", str(jp_root_dir), prompt="hello")
    events = await call(lambda: list(follow_until_settled(c, s["id"])))
    kinds = [e["kind"] for e in events]
    assert "turn_end" in kinds and events[-1]["kind"] == "state"
    assert events[-1]["data"]["state"] == "idle"


async def test_ids_can_be_abbreviated(glue_client, jp_root_dir):
    c = glue_client
    s = await call(c.start, "demo", str(jp_root_dir))
    assert await call(resolve_id, c, s["id"][:6]) == s["id"]
    with pytest.raises(ServerError, match="no session"):
        await call(resolve_id, c, "zzzz")


def test_relative_times_use_the_panels_words():
    from glue_jupyter.client.listing import ago

    now = 1_764_000_000.0
    assert [ago(now - d, now) for d in (0, 44, 45, 150, 3599, 3600, 5400, 86399, 86400, 3 * 86400)] == [
        "just now", "just now", "1 min ago", "3 min ago", "60 min ago", "1 h ago", "2 h ago", "24 h ago",
        "yesterday", "3 days ago"]
    assert ago(now - 30 * 86400, now).count("-") == 2  # a date, the same in every locale
    assert ago(None) == "-"
