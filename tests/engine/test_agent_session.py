"""The agent's own session state through the engine, against real demo agent processes: mode,
model and options (chosen at start and mid-session, changed by the agent, kept over resumes,
refused when they would bypass the permission policy), usage, slash commands, adopting a
session begun elsewhere, and session/close before a stop."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from acp import connect_to_agent, text_block

from glue_jupyter.engine import InvalidRequest
from glue_jupyter.engine.errors import AgentFailed, ModeRefused
from glue_jupyter.pytest_plugin import demo_argv

REPO = Path(__file__).resolve().parents[2]


def kinds_of(manager, sid, kind):
    return [e for e in manager.events(sid) if e["kind"] == kind]


@pytest.fixture
async def manager(open_manager, tmp_path):
    state = str(tmp_path / "demo-state")
    return await open_manager(agents={
        "demo-legacy": {"argv": demo_argv(state, "--legacy-options"), "bypass_modes": ["auto"]},
        "demo-plain": {"argv": demo_argv(state, "--no-options")},
        "demo-hang": {"argv": demo_argv(state, "--hang-on-close")},
        "demo-refuse": {"argv": demo_argv(state, "--refuse-load"), "bypass_modes": ["auto"]},
    })


# -- choosing at start ------------------------------------------------------------------------------

async def test_mode_and_model_chosen_at_start_hold_before_the_first_prompt(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir), prompt="write notes.txt",
                                          mode="plan", model="Demo Thorough")
    sid = session["id"]
    assert (session["mode"], session["model"]) == ("plan", "demo-thorough")
    await wait.turn_end(sid)
    assert not (workdir / "notes.txt").exists()          # plan mode: the agent wrote nothing
    assert kinds_of(manager, sid, "permission_request") == []
    changes = kinds_of(manager, sid, "config_change")
    assert [(c["data"]["option"], c["data"]["value"], c["data"]["by"]) for c in changes] == [
        ("mode", "plan", "user"), ("model", "demo-thorough", "user")]
    assert changes[-1]["seq"] < kinds_of(manager, sid, "turn_start")[0]["seq"]
    mode = next(o for o in manager.get(sid)["config"] if o["id"] == "mode")
    assert mode["value"] == "plan" and [c["value"] for c in mode["choices"]] == ["ask", "plan", "auto"]


async def test_a_value_the_agent_does_not_offer_fails_the_start_and_leaves_nothing(manager, workdir):
    with pytest.raises(InvalidRequest, match=r"offers no mode 'yolo'; choose one of: ask \(Ask\), plan \(Plan\)"):
        await manager.start_session("demo", str(workdir), prompt="quick", mode="yolo")
    assert manager.list_sessions() == []
    with pytest.raises(InvalidRequest, match="has no option 'colour'"):
        await manager.start_session("demo", str(workdir), config={"colour": "blue"})
    assert manager.list_sessions() == []
    assert manager.info()["active"] == 0


async def test_a_mode_that_bypasses_the_policy_is_refused_before_anything_starts(manager, workdir):
    with pytest.raises(ModeRefused, match="Mode 'auto' lets demo write files or run commands without asking"):
        await manager.start_session("demo", str(workdir), mode="auto")
    assert manager.list_sessions() == []


# -- changing mid-session ----------------------------------------------------------------------------

async def test_mid_session_changes_reach_the_agent_and_the_transcript(manager, wait, workdir):
    sid = (await manager.start_session("demo", str(workdir)))["id"]
    session = await manager.configure(sid, "model", "demo-thorough")
    assert session["model"] == "demo-thorough"
    session = await manager.configure(sid, "thoughts", "off")
    assert next(o for o in session["config"] if o["id"] == "thoughts")["value"] is False
    await manager.prompt(sid, "look around")
    await wait.turn_end(sid)
    assert kinds_of(manager, sid, "agent_thought_chunk") == []
    assert manager.get(sid)["usage"]["context_size"] == 1_000_000

    with pytest.raises(ModeRefused, match=r"Choose another mode \(ask, plan\)"):
        await manager.configure(sid, "mode", "auto")
    refused = next(c for o in manager.get(sid)["config"] if o["id"] == "mode" for c in o["choices"]
                   if c["value"] == "auto")
    assert refused["allowed"] is False
    with pytest.raises(InvalidRequest, match="takes true or false"):
        await manager.configure(sid, "thoughts", "maybe")


async def test_the_agent_changing_its_own_mode_is_recorded_and_a_bypass_is_flagged(manager, wait, workdir):
    sid = (await manager.start_session("demo", str(workdir), prompt="switch to plan"))["id"]
    await wait.turn_end(sid)
    change = kinds_of(manager, sid, "config_change")[-1]
    assert change["data"] == {"option": "mode", "name": "Mode", "value": "plan", "value_name": "Plan",
                              "previous": "ask", "by": "agent"}
    assert change["turn"] == 1
    await manager.prompt(sid, "switch to auto")
    await wait.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == 2)
    assert manager.get(sid)["mode"] == "auto"
    warning = kinds_of(manager, sid, "notice")[-1]["data"]
    assert warning["level"] == "warning" and "permission policy 'ask' no longer holds" in warning["text"]


async def test_under_the_allow_policy_a_bypass_mode_may_be_chosen(open_manager, workdir):
    manager = await open_manager(permission_policy="allow")
    session = await manager.start_session("demo", str(workdir), mode="auto", prompt="write free.txt")
    await manager.wait_for(session["id"], lambda s: s["state"] == "idle" and s["turns"] == 1)
    assert (workdir / "free.txt").exists()
    assert kinds_of(manager, session["id"], "permission_request") == []


async def test_legacy_modes_and_model_lists_are_offered_and_set_the_same_way(manager, wait, workdir):
    sid = (await manager.start_session("demo-legacy", str(workdir), mode="plan", model="demo-thorough"))["id"]
    session = manager.get(sid)
    assert (session["mode"], session["model"]) == ("plan", "demo-thorough")
    assert {o["id"] for o in session["config"]} == {"mode", "model"}
    await manager.prompt(sid, "write legacy.txt")
    await wait.turn_end(sid)
    assert not (workdir / "legacy.txt").exists()
    assert manager.get(sid)["usage"]["context_size"] == 1_000_000


async def test_an_agent_that_offers_nothing_says_so(manager, workdir):
    session = await manager.start_session("demo-plain", str(workdir))
    assert (session["config"], session["mode"], session["model"]) == ([], None, None)
    with pytest.raises(InvalidRequest, match="demo-plain has no option 'mode'; it offers no modes"):
        await manager.configure(session["id"], "mode", "plan")


# -- resume -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("agent, via", [("demo", "native"), ("demo-refuse", "seeded")])
async def test_chosen_values_survive_a_resume(manager, wait, workdir, agent, via):
    sid = (await manager.start_session(agent, str(workdir), mode="plan"))["id"]
    await manager.stop(sid)
    await manager.configure(sid, "model", "demo-thorough")   # stopped: applied on resume
    pending = kinds_of(manager, sid, "config_change")[-1]["data"]
    assert pending["pending"] is True and pending["value"] == "demo-thorough"
    session = await manager.resume(sid)
    assert session["resumed_via"] == via
    assert (session["mode"], session["model"]) == ("plan", "demo-thorough")
    restored = [e["data"] for e in kinds_of(manager, sid, "config_change") if e["data"]["by"] == "resume"]
    assert {(c["option"], c["value"]) for c in restored} == {("mode", "plan"), ("model", "demo-thorough")}
    await manager.prompt(sid, "write after-resume.txt")
    await wait.turn_end(sid)
    assert not (workdir / "after-resume.txt").exists()       # the fresh agent session is in plan mode


# -- usage and commands -----------------------------------------------------------------------------

async def test_usage_per_turn_and_per_session_over_processes(manager, wait, workdir):
    sid = (await manager.start_session("demo", str(workdir), prompt="quick"))["id"]
    first = await wait.turn_end(sid)
    tokens = first["data"]["usage"]
    assert tokens["output_tokens"] > 0 and tokens["total_tokens"] >= tokens["output_tokens"]
    gauge = kinds_of(manager, sid, "usage")[-1]["data"]
    assert gauge["size"] == 128_000 and gauge["used"] > 0 and gauge["cost"]["currency"] == "USD"
    usage = manager.get(sid)["usage"]
    assert usage["total_tokens"] == tokens["total_tokens"]
    assert (usage["context_used"], usage["context_size"]) == (gauge["used"], 128_000)
    cost_one = usage["cost"]
    assert cost_one > 0

    await manager.stop(sid)
    await manager.resume(sid, prompt="quick again")   # a new process counts its cost from zero
    second = await wait.turn_end(sid, after_seq=first["seq"])
    usage = manager.get(sid)["usage"]
    assert usage["total_tokens"] == tokens["total_tokens"] + second["data"]["usage"]["total_tokens"]
    assert usage["cost"] > cost_one
    assert usage["context_used"] > gauge["used"]


async def test_slash_commands_are_kept_with_the_session(manager, wait, workdir):
    sid = (await manager.start_session("demo", str(workdir)))["id"]
    await wait.kind(sid, "commands")
    commands = {c["name"]: c for c in manager.get(sid)["commands"]}
    assert commands["write"] == {"name": "write", "description": "Write a file in the session folder (asks first)",
                                 "hint": "file name"}
    await manager.prompt(sid, "/recall")
    await wait.turn_end(sid)
    assert "remember nothing" in wait.text(sid)
    assert {a["name"]: a for a in manager.agents()}["demo"]["commands"] == manager.get(sid)["commands"]


# -- stop --------------------------------------------------------------------------------------------

async def test_stop_closes_the_agent_session_first(manager, workdir, tmp_path):
    session = await manager.start_session("demo", str(workdir), prompt="sleep a while")
    stopped = await manager.stop(session["id"])
    assert stopped["state"] == "stopped"
    history = json.loads((tmp_path / "demo-state" / f"{session['agent_session_id']}.json").read_text())
    assert history["closed"] is True


async def test_an_agent_that_never_answers_close_is_stopped_anyway(open_manager, workdir, tmp_path):
    state = str(tmp_path / "demo-state")
    manager = await open_manager(close_timeout=0.3,
                                 agents={"demo-hang": {"argv": demo_argv(state, "--hang-on-close")}})
    session = await manager.start_session("demo-hang", str(workdir))
    stopped = await manager.stop(session["id"])
    assert stopped["state"] == "stopped"
    exit_event = kinds_of(manager, session["id"], "process_exit")[-1]
    assert exit_event["data"]["requested"] is True


# -- adopting a session begun elsewhere -------------------------------------------------------------

async def begin_elsewhere(state_dir: Path, cwd: Path, text: str) -> str:
    """A demo agent session started outside glue (as in a terminal): returns its id."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "glue_jupyter.agents.demo", "--pace", "0.01", "--state-dir", str(state_dir),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=REPO)

    class Quiet:
        async def session_update(self, *args, **kwargs):
            pass

    conn = connect_to_agent(Quiet(), proc.stdin, proc.stdout)
    try:
        await conn.initialize(protocol_version=1)
        agent_sid = (await conn.new_session(cwd=str(cwd), mcp_servers=[])).session_id
        await conn.prompt(session_id=agent_sid, prompt=[text_block(text)])
    finally:
        proc.stdin.close()
        await proc.wait()
        await conn.close()
    return agent_sid


async def test_adopt_a_session_begun_elsewhere(manager, wait, workdir, tmp_path):
    agent_sid = await begin_elsewhere(tmp_path / "demo-state", workdir, "quick: remember the milk")
    listed = await manager.agent_sessions("demo", str(workdir))
    mine = next(s for s in listed if s["agent_session_id"] == agent_sid)
    assert mine["title"] == "quick: remember the milk" and mine["glue_session_id"] is None
    assert mine["cwd"] == str(workdir) and mine["updated_at"]

    session = await manager.start_session("demo", str(workdir), title=mine["title"], agent_session_id=agent_sid,
                                          mode="plan")
    sid = session["id"]
    assert (session["state"], session["resumed_via"], session["mode"]) == ("idle", "native", "plan")
    assert session["agent_session_id"] == agent_sid
    history = [(e["kind"], e["data"].get("text")) for e in manager.events(sid)
               if e["kind"] in ("user_message", "agent_message_chunk")]
    assert history == [("user_message", "quick: remember the milk"),
                       ("agent_message_chunk", "Quick answer from the glue demo agent.")]
    await manager.prompt(sid, "recall")
    await wait.turn_end(sid)
    assert "1. quick: remember the milk" in wait.text(sid, turn=1)

    listed = await manager.agent_sessions("demo", str(workdir))
    assert next(s for s in listed if s["agent_session_id"] == agent_sid)["glue_session_id"] == sid
    with pytest.raises(InvalidRequest, match=f"already glue session {sid}"):
        await manager.start_session("demo", str(workdir), agent_session_id=agent_sid)


async def test_adopting_an_unknown_session_fails_and_leaves_nothing(manager, workdir):
    with pytest.raises(AgentFailed, match="could not adopt the agent's session nope"):
        await manager.start_session("demo", str(workdir), agent_session_id="nope")
    assert manager.list_sessions() == []


async def test_an_agent_without_session_list_says_so(open_manager, workdir, tmp_path):
    manager = await open_manager(agents={"demo-nolist": {"argv": [sys.executable, "-c", NO_LIST_AGENT]}})
    with pytest.raises(InvalidRequest, match="demo-nolist cannot list its sessions"):
        await manager.agent_sessions("demo-nolist", str(workdir))


# An ACP agent that answers initialize without sessionCapabilities, then waits for EOF.
NO_LIST_AGENT = """
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("method") == "initialize":
        print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": {
            "protocolVersion": 1, "agentCapabilities": {}, "authMethods": []}}), flush=True)
"""
