"""Every REST route of the glue server extension, and every error code it promises."""

from __future__ import annotations

import pytest
import yaml


async def test_info_agents_and_openapi(glue_api):
    info = await glue_api.ok("GET", "info")
    assert info == {"version": info["version"], "active": 0, "limit": 3, "root_dir": info["root_dir"]}

    agents = {a["name"]: a for a in (await glue_api.ok("GET", "agents"))["agents"]}
    assert agents["demo"]["installed"] is True
    assert agents["missing"]["installed"] is False
    assert agents["missing"]["install_hint"] == "It is never installed."
    # Installed agents were checked: started in an empty folder, asked `initialize`, ended.
    demo = agents["demo"]
    assert demo["check"]["ok"] and demo["version"] == info["version"]
    assert demo["capabilities"] == {"load": True, "resume": False, "list": True, "fork": True,
                                    "close": True, "prompt": ["text", "embedded_context"]}
    assert agents["missing"]["check"] is None and agents["missing"]["capabilities"] is None
    cached = (await glue_api.ok("GET", "agents"))["agents"]
    assert next(a for a in cached if a["name"] == "demo")["check"]["checked_at"] == demo["check"]["checked_at"]
    fresh = (await glue_api.ok("GET", "agents", params={"refresh": "1"}))["agents"]
    assert next(a for a in fresh if a["name"] == "demo")["check"]["ok"]  # (a check this recent is reused)
    status, reply = await glue_api.request("GET", "agents", params={"refresh": "yes"})
    assert status == 400 and "refresh must be 1 or 0" in reply["message"]

    response = await glue_api._fetch("api", "glue", "openapi.yaml")
    spec = yaml.safe_load(response.body)
    assert "/api/glue/sessions/{session_id}/events" in spec["paths"]


async def test_start_list_get_and_events(glue_api, jp_root_dir):
    (jp_root_dir / "project").mkdir()
    session = await glue_api.start(prompt="hello", cwd="project", title="First")
    assert session["state"] == "running"
    assert session["cwd"] == str((jp_root_dir / "project").resolve())  # relative to root_dir
    assert session["title"] == "First"
    sid = session["id"]
    # The turn's checkpoint summary (turn_changes) is the last event of a turn, just after idle.
    await glue_api.wait_event(sid, lambda e: e["kind"] == "turn_changes")
    idle = await glue_api.wait_for(sid, "idle")

    assert await glue_api.ok("GET", "sessions", sid) == idle
    listed = (await glue_api.ok("GET", "sessions"))["sessions"]
    assert [s["id"] for s in listed] == [sid]
    for params, expected in [({"state": "idle"}, [sid]), ({"state": "paused,stopped"}, []),
                             ({"agent": "demo"}, [sid]), ({"agent": "other"}, []),
                             ({"q": "hello"}, [sid]), ({"q": "zebra"}, []),
                             ({"sort": "title"}, [sid])]:
        reply = await glue_api.ok("GET", "sessions", params=params)
        assert [s["id"] for s in reply["sessions"]] == expected, params

    page = await glue_api.ok("GET", "sessions", sid, "events", params={"limit": 5})
    assert [e["seq"] for e in page["events"]] == [1, 2, 3, 4, 5]
    assert page["last_seq"] == idle["last_seq"]
    rest = await glue_api.ok("GET", "sessions", sid, "events", params={"after_seq": 5})
    assert [e["seq"] for e in rest["events"]] == list(range(6, idle["last_seq"] + 1))
    kinds = [e["kind"] for e in page["events"] + rest["events"]]
    assert "user_message" in kinds and kinds.count("turn_end") == 1


async def test_controls_through_a_whole_life(glue_api):
    sid = (await glue_api.start())["id"]
    await glue_api.wait_for(sid, "idle")

    running = await glue_api.control(sid, "prompt", text="sleep a while")
    assert running["state"] == "running"
    interrupted = await glue_api.control(sid, "interrupt")
    assert interrupted["state"] == "idle"
    turn_end = [e for e in await glue_api.events(sid) if e["kind"] == "turn_end"][-1]
    assert turn_end["data"]["stop_reason"] == "cancelled"

    paused = await glue_api.control(sid, "pause")
    assert paused["state"] == "paused" and paused["paused_since"] is not None
    thawed = await glue_api.control(sid, "resume")
    assert thawed["state"] == "idle" and thawed["resumed_via"] == "thaw"

    stopped = await glue_api.control(sid, "stop")
    assert stopped["state"] == "stopped"
    resumed = await glue_api.control(sid, "resume", prompt="recall")
    assert resumed["resumed_via"] in ("native", "seeded")
    assert resumed["state"] in ("running", "idle")
    await glue_api.wait_for(sid, "idle")

    await glue_api.control(sid, "stop")
    await glue_api.ok("DELETE", "sessions", sid, expect=204)
    await glue_api.ok("GET", "sessions", sid, expect=404)


async def test_permission_requests(glue_api, jp_root_dir):
    sid = (await glue_api.start(prompt="write notes.txt"))["id"]
    request = await glue_api.wait_event(sid, lambda e: e["kind"] == "permission_request")
    await glue_api.wait_for(sid, lambda s: s["pending_permissions"] == 1)
    rid = request["data"]["request_id"]
    allow = next(o for o in request["data"]["options"] if o["kind"] == "allow_once")

    status, reply = await glue_api.request("POST", "sessions", sid, "permissions", "nope",
                                           body={"option_id": allow["option_id"]})
    assert status == 404 and "nope" in reply["message"]
    status, reply = await glue_api.request("POST", "sessions", sid, "permissions", rid,
                                           body={"option_id": "not-an-option"})
    assert status == 400, reply
    status, reply = await glue_api.request("POST", "sessions", sid, "permissions", rid, body={})
    assert status == 400 and "option_id" in reply["message"]

    answered = await glue_api.ok("POST", "sessions", sid, "permissions", rid,
                                 body={"option_id": allow["option_id"]})
    assert answered["pending_permissions"] == 0
    await glue_api.wait_for(sid, "idle")
    assert (jp_root_dir / "notes.txt").exists()


# -- errors --------------------------------------------------------------------------------

BAD_STARTS = [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"cwd": "."}', "Missing field: agent"),
    (b'{"agent": "demo", "colour": "red"}', "Unknown field(s): colour"),
    (b'{"agent": 3}', "Field agent must be a string."),
    (b'{"agent": "demo", "title": true}', "Field title must be a string or null."),
    (b'{"agent": "demo", "cwd": "no/such/folder"}', "does not exist"),
]


@pytest.mark.parametrize(("body", "says"), BAD_STARTS)
async def test_malformed_start_is_400(glue_api, body, says):
    status, reply = await glue_api.request("POST", "sessions", body=body)
    assert status == 400, reply
    assert says in reply["message"]
    assert set(reply) == {"message"}  # never a traceback


async def test_unknown_agent_404_and_not_installed_409(glue_api):
    status, reply = await glue_api.request("POST", "sessions", body={"agent": "nobody"})
    assert status == 404 and "Known agents" in reply["message"]
    status, reply = await glue_api.request("POST", "sessions", body={"agent": "missing"})
    assert status == 409 and "It is never installed." in reply["message"]


async def test_no_free_slot_409_names_the_sessions(glue_api):
    ids = [(await glue_api.start(title=f"s{i}"))["id"] for i in range(3)]
    status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo"})
    assert status == 409
    assert all(sid[:8] in reply["message"] and sid not in reply["message"] for sid in ids)
    assert "Pause or stop" in reply["message"]
    await glue_api.control(ids[0], "pause")  # a paused session holds no slot
    await glue_api.start()
    status, reply = await glue_api.request("POST", "sessions", ids[0], "resume")
    assert status == 409 and "slots" in reply["message"]


async def test_unknown_session_is_404_everywhere(glue_api):
    routes = [("GET", ()), ("DELETE", ()), ("GET", ("events",)),
              ("POST", ("interrupt",)), ("POST", ("pause",)), ("POST", ("stop",)),
              ("POST", ("resume",)), ("POST", ("permissions", "r1")), ("POST", ("seen",)),
              ("PATCH", ())]
    for method, tail in routes:
        body = {"option_id": "x"} if "permissions" in tail else {"title": "t"} if method == "PATCH" else None
        status, reply = await glue_api.request(method, "sessions", "nosuch", *tail, body=body)
        assert status == 404, (method, tail, reply)
        assert "nosuch" in reply["message"]
    status, _ = await glue_api.request("POST", "sessions", "nosuch", "prompt", body={"text": "hi"})
    assert status == 404


async def test_illegal_controls_are_409_naming_the_state(glue_api):
    sid = (await glue_api.start())["id"]
    await glue_api.wait_for(sid, "idle")
    for control in ("interrupt", "resume"):
        status, reply = await glue_api.request("POST", "sessions", sid, control)
        assert status == 409 and "idle" in reply["message"], (control, reply)
    status, reply = await glue_api.request("DELETE", "sessions", sid)
    assert status == 409 and "Stop it first" in reply["message"]

    await glue_api.control(sid, "prompt", text="sleep please")
    status, reply = await glue_api.request("POST", "sessions", sid, "prompt", body={"text": "again"})
    assert status == 200 and reply["state"] == "running"   # a message while a turn runs is queued
    assert [q["text"] for q in reply["queue"]] == ["again"]
    await glue_api.control(sid, "stop")
    status, reply = await glue_api.request("POST", "sessions", sid, "pause")
    assert status == 409 and "stopped" in reply["message"]
    status, reply = await glue_api.request("POST", "sessions", sid, "prompt", body={"text": "again"})
    assert status == 409 and "stopped" in reply["message"] and "Resume it" in reply["message"]


async def test_malformed_controls_and_queries_are_400(glue_api):
    sid = (await glue_api.start())["id"]
    await glue_api.wait_for(sid, "idle")
    cases = [
        (("prompt",), {}, "Missing field: text"),
        (("prompt",), {"text": 5}, "must be a string"),
        (("prompt",), {"text": ""}, "non-empty"),
        (("interrupt",), {"now": True}, "Unknown field(s): now"),
        (("stop",), "nope", "not valid JSON"),
        (("resume",), {"prompt": ["x"]}, "must be a string or null"),
    ]
    for tail, body, says in cases:
        status, reply = await glue_api.request("POST", "sessions", sid, *tail, body=body)
        assert status == 400 and says in reply["message"], (tail, body, reply)
    for params in ({"after_seq": "-1"}, {"after_seq": "x"}, {"limit": "0"}, {"limit": "1.5"}):
        status, reply = await glue_api.request("GET", "sessions", sid, "events", params=params)
        assert status == 400, (params, reply)
    for params in ({"sort": "colour"}, {"state": "asleep"}):
        status, reply = await glue_api.request("GET", "sessions", params=params)
        assert status == 400, (params, reply)


async def test_query_parameters_typos_refused_cache_buster_accepted(glue_api):
    status, reply = await glue_api.request("GET", "sessions", params={"stat": "idle"})
    assert status == 400 and "Unknown query parameter(s): stat" in reply["message"]
    # JupyterLab's ServerConnection appends ?<timestamp> to every GET.
    status, reply = await glue_api.request("GET", "sessions", params={"1764000000000": ""})
    assert status == 200 and reply["sessions"] == []


async def test_prompts_carry_context_over_http(glue_api):
    df = {"type": "resource", "uri": "jupyter://kernel/variables/df", "name": "df", "text": "df: 3 rows"}
    link = {"type": "resource_link", "uri": "file:///srv/sales.ipynb", "name": "sales.ipynb"}
    sid = (await glue_api.start(prompt="quick", title="Context"))["id"]
    await glue_api.wait_for(sid, "idle")
    await glue_api.control(sid, "prompt", text="quick: look at df", context=[df, link])
    await glue_api.wait_for(sid, lambda s: s["state"] == "idle" and s["turns"] == 2)
    await glue_api.control(sid, "stop")
    await glue_api.control(sid, "resume", prompt="quick: and again", context=[df])
    await glue_api.wait_for(sid, lambda s: s["state"] == "idle" and s["turns"] == 3)
    sent = [e["data"].get("context") for e in await glue_api.events(sid) if e["kind"] == "user_message"]
    assert sent == [None, [{**df, "sent_as": "resource"}, {**link, "sent_as": "resource_link"}],
                    [{**df, "sent_as": "resource"}]]

    status, reply = await glue_api.request("POST", "sessions", sid, "prompt",
                                           body={"text": "quick", "context": [{**df, "uri": 5}]})
    assert status == 400 and reply["message"] == "Field context[0].uri must be a string."
    await glue_api.control(sid, "stop")
    status, reply = await glue_api.request("POST", "sessions", sid, "resume", body={"context": [df]})
    assert status == 400 and "context is sent with a prompt" in reply["message"]


async def test_the_session_list_carries_the_slots(glue_api):
    """A list view shows "1 of 3 active" with one request (the hub portal asks every server)."""
    await glue_api.start()
    reply = await glue_api.ok("GET", "sessions")
    info = await glue_api.ok("GET", "info")
    assert (reply["active"], reply["limit"]) == (1, 3) == (info["active"], info["limit"])
    assert (await glue_api.ok("GET", "sessions", params={"no_track_activity": "1"}))["active"] == 1
