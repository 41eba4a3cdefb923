"""Modes, models, usage and slash commands of the real agents (each offline against its fake):
what each offers reaches the session JSON, a bypassing mode is refused, a model can be
changed, a turn's usage is counted, and a stop ends the agent's process group."""

from __future__ import annotations

import pytest

from glue_jupyter.agents.acp_options import find
from glue_jupyter.engine import InvalidRequest
from glue_jupyter.engine.errors import ModeRefused

# Agents that announce slash commands by the end of a first turn (Zed's Codex adapter sends
# them later, if at all, against the fake).
ANNOUNCE_COMMANDS = {"claude", "codex", "gemini"}


async def test_modes_models_usage_and_commands(drive, real):
    d = await drive()
    sid = await d.start()
    spec = d.manager.agents_table[real.agent]
    session = d.manager.get(sid)

    # The mode the policy needs, and the bypassing modes marked refused (and refused).
    mode = find(session["config"], "mode")
    assert mode is not None and mode["value"] == spec.start_mode == session["mode"]
    bypassing = [c for c in mode["choices"] if c["value"] in spec.bypass_modes]
    assert bypassing, f"{real} offers none of its registry's bypass modes: {mode['choices']}"
    assert all(c["allowed"] is False for c in bypassing)
    assert all(c["allowed"] for c in mode["choices"] if c["value"] not in spec.bypass_modes)
    with pytest.raises(ModeRefused):
        await d.manager.configure(sid, "mode", bypassing[0]["value"])
    assert d.manager.get(sid)["mode"] == spec.start_mode

    # Another model, by the user: the agent takes it and the transcript says so.
    model = find(session["config"], "model")
    assert model is not None and len(model["choices"]) > 1, session["config"]
    other = next(c for c in model["choices"] if c["value"] != model["value"])
    changed = await d.manager.configure(sid, "model", other["value"])
    assert changed["model"] == other["value"]
    change = d.events(sid, "config_change")[-1]["data"]
    assert (change["option"], change["value"], change["by"]) == (model["id"], other["value"], "user")

    # A turn: its tokens and the context gauge, as the agent reports them.
    await d.manager.prompt(sid, "Hello")
    end = await d.turn_end(sid, 1)
    usage = d.manager.get(sid)["usage"]
    assert usage is not None, f"{real} reported no usage"
    assert usage["context_size"] or usage["total_tokens"], usage
    if end["data"].get("usage"):
        assert usage["total_tokens"] >= end["data"]["usage"]["total_tokens"] > 0

    if real.key in ANNOUNCE_COMMANDS:
        commands = (await d.manager.wait_for(sid, lambda s: bool(s["commands"]), 30))["commands"]
        assert all(c["name"] and not c["name"].startswith("/") for c in commands)

    # The agent's own session list (where it offers one) has this session, marked as ours.
    if (d.manager.sessions[sid].driver.capabilities.get("sessionCapabilities") or {}).get("list") is not None:
        listed = await d.manager.agent_sessions(real.agent, str(d.workdir))
        ours = [e for e in listed if e["agent_session_id"] == session["agent_session_id"]]
        assert [e["glue_session_id"] for e in ours] == [sid], listed
    else:
        with pytest.raises(InvalidRequest, match="cannot list its sessions"):
            await d.manager.agent_sessions(real.agent, str(d.workdir))

    await d.manager.stop(sid)
    assert d.group_gone(sid)
    # What the session was offered stays readable once it stopped (the pickers use it).
    assert d.manager.get(sid)["model"] == other["value"]
    agents = {a["name"]: a for a in d.manager.agents()}
    assert find(agents[real.agent]["config"], "mode") is not None

    # A new agent process starts with its own defaults: the model chosen is put back.
    resumed = await d.manager.resume(sid)
    assert resumed["model"] == other["value"] and resumed["mode"] == spec.start_mode, d.events(sid, "config_change")


async def test_adopt_a_session_the_agent_keeps(drive, real):
    """A session of the agent's own that glue does not know (here: one glue forgot, as one begun
    in a terminal would be) is listed, adopted, replayed into the transcript and continued."""
    d = await drive()
    sid = await d.start()
    if (d.manager.sessions[sid].driver.capabilities.get("sessionCapabilities") or {}).get("list") is None:
        # Gemini CLI: nothing to list; its sessions are adopted by id (a native load, which it
        # refuses within the UTC minute a session was made: not tried here).
        with pytest.raises(InvalidRequest, match="cannot list its sessions"):
            await d.manager.agent_sessions(real.agent, str(d.workdir))
        return
    await d.manager.prompt(sid, "Remember the word apricot.")
    await d.turn_end(sid, 1)
    agent_sid = d.manager.get(sid)["agent_session_id"]
    await d.manager.stop(sid)
    await d.manager.forget(sid)

    listed = await d.manager.agent_sessions(real.agent, str(d.workdir))
    mine = next(e for e in listed if e["agent_session_id"] == agent_sid)
    assert mine["glue_session_id"] is None
    adopted = await d.manager.start_session(real.agent, str(d.workdir), agent_session_id=agent_sid,
                                            title=mine["title"])
    new = adopted["id"]
    assert (adopted["state"], adopted["resumed_via"]) == ("idle", "native"), d.manager.events(new)
    assert any("apricot" in e["data"].get("text", "") for e in d.events(new, "user_message"))
    await d.manager.prompt(new, "Which word did I ask you to remember?")
    end = await d.turn_end(new, 1)
    assert end["data"]["stop_reason"] == "end_turn"
    request = d.fake.first_request_with("Which word did I ask you to remember?", main=True)
    assert request is not None and "apricot" in request.raw
