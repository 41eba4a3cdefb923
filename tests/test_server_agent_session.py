"""The agent's own session state over HTTP: options at start and mid-session, usage and slash
commands in the session JSON, the agent's session list and adopting one of its sessions."""

from __future__ import annotations

from pathlib import Path

from glue_jupyter.agents.demo.agent import HistoryStore, Session as DemoSession


async def test_start_with_mode_and_model_then_change_them(glue_api, tmp_path):
    session = await glue_api.ok("POST", "sessions", expect=201, body={
        "agent": "demo", "cwd": ".", "mode": "Plan", "model": "demo-thorough", "config": {"thoughts": False}})
    sid = session["id"]
    assert (session["mode"], session["model"]) == ("plan", "demo-thorough")
    assert next(o for o in session["config"] if o["id"] == "thoughts")["value"] is False

    changed = await glue_api.ok("POST", "sessions", sid, "config", body={"option": "mode", "value": "ask"})
    assert changed["mode"] == "ask"
    status, reply = await glue_api.request("POST", "sessions", sid, "config", body={"option": "mode", "value": "auto"})
    assert status == 409 and "permission policy 'ask' forbids" in reply["message"]
    status, reply = await glue_api.request("POST", "sessions", sid, "config", body={"option": "model", "value": "gpt"})
    assert status == 400 and "demo-fast (Demo Fast), demo-thorough (Demo Thorough)" in reply["message"]
    status, reply = await glue_api.request("POST", "sessions", sid, "config", body={"option": "mode"})
    assert status == 400 and reply["message"] == "Missing field: value."
    status, _ = await glue_api.request("POST", "sessions", "nope", "config", body={"option": "mode", "value": "ask"})
    assert status == 404

    events = await glue_api.events(sid)
    changes = [e["data"] for e in events if e["kind"] == "config_change"]
    assert [(c["option"], c["value"], c["by"]) for c in changes] == [
        ("mode", "plan", "user"), ("model", "demo-thorough", "user"), ("thoughts", False, "user"),
        ("mode", "ask", "user")]


async def test_a_refused_start_leaves_no_session(glue_api):
    status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo", "mode": "auto"})
    assert status == 409 and reply["message"].startswith("Mode 'auto' lets demo write files")
    status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo", "config": {"mode": 3}})
    assert status == 400 and reply["message"] == "Field config.mode must be a string or true or false."
    assert (await glue_api.ok("GET", "sessions"))["sessions"] == []


async def test_usage_and_commands_are_in_the_session_and_the_agents_route(glue_api):
    sid = (await glue_api.start(prompt="quick"))["id"]
    session = await glue_api.wait_for(sid, lambda s: s["state"] == "idle" and s["usage"] and s["commands"])
    usage = session["usage"]
    assert usage["context_size"] == 128_000 and usage["output_tokens"] > 0 and usage["currency"] == "USD"
    assert "recall" in {c["name"] for c in session["commands"]}
    listed = (await glue_api.ok("GET", "sessions"))["sessions"]
    assert listed[0]["usage"] == usage
    demo = next(a for a in (await glue_api.ok("GET", "agents"))["agents"] if a["name"] == "demo")
    assert {o["id"] for o in demo["config"]} == {"mode", "model", "thoughts"}
    assert demo["commands"] == session["commands"]


async def test_list_and_adopt_an_agent_session_over_http(glue_api, glue_config, jp_root_dir):
    # A session the demo agent keeps from elsewhere (its own history file, as a terminal run leaves it).
    state = HistoryStore(str(Path(glue_config["data_dir"]) / "demo-agent"))
    elsewhere = DemoSession(id="terminal-session-1", cwd=str(jp_root_dir.resolve()),
                            history=[{"role": "user", "text": "quick: tidy the notebook"},
                                     {"role": "agent", "text": "Done, in a way."}])
    state.save(elsewhere)

    listed = (await glue_api.ok("GET", "agents", "demo", "sessions"))["sessions"]
    assert [(s["agent_session_id"], s["title"], s["glue_session_id"]) for s in listed] == [
        ("terminal-session-1", "quick: tidy the notebook", None)]
    adopted = await glue_api.ok("POST", "sessions", expect=201, body={
        "agent": "demo", "agent_session_id": "terminal-session-1", "title": listed[0]["title"]})
    assert (adopted["state"], adopted["resumed_via"]) == ("idle", "native")
    texts = [e["data"].get("text") for e in await glue_api.events(adopted["id"])
             if e["kind"] in ("user_message", "agent_message_chunk")]
    assert texts == ["quick: tidy the notebook", "Done, in a way."]
    listed = (await glue_api.ok("GET", "agents", "demo", "sessions"))["sessions"]
    assert listed[0]["glue_session_id"] == adopted["id"]

    status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo", "agent_session_id": "gone"})
    assert status == 409 and "could not adopt the agent's session gone" in reply["message"]
    status, reply = await glue_api.request("GET", "agents", "nobody", "sessions")
    assert status == 404
    status, reply = await glue_api.request("GET", "agents", "demo", "sessions", params={"cwd": "no/such/dir"})
    assert status == 400 and "does not exist" in reply["message"]
