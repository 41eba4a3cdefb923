"""The demo agent's modes, models, config options, usage, slash commands, session/list and
session/close, driven as a real process through the official ACP client library (answers are
validated by the library's own response models)."""

from __future__ import annotations

import asyncio
import json

import pytest
from acp import RequestError
from acp.schema import NewSessionResponse

from test_demo_agent import TIMEOUT, cwd, running, state_dir  # noqa: F401 (fixtures)


async def raw_request(agent, method: str, params: dict) -> dict:
    """A request whose raw answer we want (the library drops fields it does not model)."""
    return await asyncio.wait_for(agent.conn._conn.send_request(method, params), TIMEOUT)


async def test_new_session_offers_modes_and_config_options(state_dir, cwd):
    async with running(state_dir) as agent:
        answer = NewSessionResponse.model_validate(
            await raw_request(agent, "session/new", {"cwd": str(cwd), "mcpServers": []}))
        assert answer.modes.current_mode_id == "ask"
        assert [m.id for m in answer.modes.available_modes] == ["ask", "plan", "auto"]
        options = {o.id: o for o in answer.config_options}
        assert options["mode"].current_value == "ask"
        assert options["model"].current_value == "demo-fast"
        assert options["thoughts"].current_value is True
        # Slash commands are announced right after the answer, before any prompt.
        commands = (await agent.changes.until(lambda: agent.client.of_kind("available_commands_update")))[0]
        assert {c.name for c in commands.available_commands} >= {"recall", "write", "quick"}


async def test_plan_mode_never_writes_and_auto_mode_writes_without_asking(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        changed = await agent.conn.set_config_option(config_id="mode", session_id=session_id, value="plan")
        assert next(o for o in changed.config_options if o.id == "mode").current_value == "plan"
        assert await agent.prompt(session_id, "write planned.txt") == "end_turn"
        assert not (cwd / "planned.txt").exists()
        assert agent.client.permission_requests == []

        await agent.conn.set_session_mode(session_id=session_id, mode_id="auto")
        assert await agent.prompt(session_id, "write auto.txt") == "end_turn"
        assert (cwd / "auto.txt").exists()
        assert agent.client.permission_requests == []   # auto mode does not ask

        with pytest.raises(RequestError):
            await agent.conn.set_config_option(config_id="mode", session_id=session_id, value="yolo")


async def test_boolean_option_turns_thoughts_off(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        await agent.conn.set_config_option(config_id="thoughts", session_id=session_id, value=False)
        assert await agent.prompt(session_id, "look around") == "end_turn"
        assert agent.client.of_kind("agent_thought_chunk") == []


async def test_legacy_style_offers_modes_and_a_model_list(state_dir, cwd):
    async with running(state_dir, "--legacy-options") as agent:
        answer = await raw_request(agent, "session/new", {"cwd": str(cwd), "mcpServers": []})
        assert "configOptions" not in answer
        assert answer["models"]["currentModelId"] == "demo-fast"
        session_id = answer["sessionId"]
        await raw_request(agent, "session/set_model", {"sessionId": session_id, "modelId": "demo-thorough"})
        assert await agent.prompt(session_id, "quick") == "end_turn"
        usage = agent.client.of_kind("usage_update")[-1]
        assert usage.size == 1_000_000   # the thorough model's context
        with pytest.raises(RequestError):   # config options are not offered this way
            await agent.conn.set_config_option(config_id="mode", session_id=session_id, value="plan")


async def test_no_options_style_offers_nothing(state_dir, cwd):
    async with running(state_dir, "--no-options") as agent:
        answer = await raw_request(agent, "session/new", {"cwd": str(cwd), "mcpServers": []})
        assert set(answer) == {"sessionId"}
        with pytest.raises(RequestError, match="not found"):
            await agent.conn.set_session_mode(session_id=answer["sessionId"], mode_id="plan")


async def test_turns_report_usage_and_a_growing_cost(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        first = await agent.conn.prompt(session_id=session_id, prompt=[{"type": "text", "text": "quick"}])
        assert first.usage.output_tokens > 0 and first.usage.total_tokens >= first.usage.output_tokens
        await agent.prompt(session_id, "quick again")
        updates = agent.client.of_kind("usage_update")
        assert len(updates) == 2
        assert 0 < updates[0].used < updates[1].used and updates[1].size == 128_000
        assert updates[0].cost.currency == "USD" and 0 < updates[0].cost.amount < updates[1].cost.amount


async def test_the_agent_switches_its_own_mode(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, "please switch to plan") == "end_turn"
        assert agent.client.of_kind("current_mode_update")[0].current_mode_id == "plan"
        options = agent.client.of_kind("config_option_update")[0].config_options
        assert next(o for o in options if o.id == "mode").current_value == "plan"
        await agent.prompt(session_id, "write x.txt")
        assert not (cwd / "x.txt").exists()


async def test_session_list_by_folder_with_pages(state_dir, cwd, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    async with running(state_dir) as agent:
        titled = await agent.new_session(cwd)
        await agent.prompt(titled, "quick, and remember this title")
        for _ in range(26):
            await agent.new_session(cwd)
        elsewhere = await agent.new_session(other)
        first = await agent.conn.list_sessions(cwd=str(cwd))
        assert len(first.sessions) == 25 and first.next_cursor
        rest = await agent.conn.list_sessions(cwd=str(cwd), cursor=first.next_cursor)
        listed = first.sessions + rest.sessions
        assert len(listed) == 27 and rest.next_cursor is None
        assert elsewhere not in {s.session_id for s in listed}
        assert {s.cwd for s in listed} == {str(cwd)}
        mine = next(s for s in listed if s.session_id == titled)
        assert mine.title == "quick, and remember this title" and mine.updated_at
        everything = await agent.conn.list_sessions()
        assert elsewhere in {s.session_id for s in everything.sessions}


async def test_session_close_ends_the_session(state_dir, cwd):
    async with running(state_dir) as agent:
        initialized = json.loads(next(line for line in agent.raw if '"agentCapabilities"' in line))
        assert initialized["result"]["agentCapabilities"]["sessionCapabilities"] == {"list": {}, "close": {}, "fork": {}}
        session_id = await agent.new_session(cwd)
        turn = asyncio.ensure_future(agent.prompt(session_id, "sleep a while"))
        await agent.changes.until(lambda: agent.client.of_kind("tool_call"))
        await asyncio.wait_for(agent.conn.close_session(session_id=session_id), TIMEOUT)
        assert await turn == "cancelled"
        with pytest.raises(RequestError):
            await agent.prompt(session_id, "quick")


async def test_hang_on_close_never_answers(state_dir, cwd):
    async with running(state_dir, "--hang-on-close") as agent:
        session_id = await agent.new_session(cwd)
        closing = asyncio.ensure_future(agent.conn.close_session(session_id=session_id))
        await agent.changes.until(lambda: any("not answering session/close" in line for line in agent.stderr))
        assert not closing.done()
        closing.cancel()


async def test_no_close_does_not_offer_session_close(state_dir, cwd):
    async with running(state_dir, "--no-close") as agent:
        initialized = json.loads(next(line for line in agent.raw if '"agentCapabilities"' in line))
        assert initialized["result"]["agentCapabilities"]["sessionCapabilities"] == {"list": {}, "fork": {}}
