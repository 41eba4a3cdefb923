"""Checking an agent before a session: started in an empty folder, asked `initialize`, ended."""

from __future__ import annotations

import psutil

from glue_jupyter.engine import agent_check


async def test_a_check_is_cached_shared_and_leaves_no_process(manager):
    spec = manager.agents_table["demo"]
    first, same = await manager.checks.check(spec), await manager.checks.check(spec)
    assert first is same and first["check"]["ok"] and first["capabilities"]["load"]
    agents = {a["name"]: a for a in manager.agents()}
    assert agents["demo"]["check"] == first["check"]
    # A refresh soon after reuses the check (many tabs, one agent process).
    assert await manager.checks.check(spec, refresh=True) is first


async def test_a_refresh_checks_again(manager, monkeypatch):
    monkeypatch.setattr(agent_check, "RECHECK_AFTER", 0.0)
    spec = manager.agents_table["demo"]
    first = await manager.checks.check(spec)
    again = await manager.checks.check(spec, refresh=True)
    assert again is not first and again["check"]["checked_at"] > first["check"]["checked_at"]


async def test_an_agent_that_does_not_start_says_why(open_manager, workdir):
    manager = await open_manager(agents={"broken": {"argv": ["sh", "-c", "echo 'unknown option --acp' >&2; exit 2"]}})
    found = {a["name"]: a for a in await manager.check_agents()}["broken"]
    assert found["check"]["ok"] is False and "unknown option --acp" in found["check"]["error"]
    assert found["capabilities"] is None and found["signed_in"] is None


async def test_an_agent_that_never_answers_is_given_up_and_ended(open_manager, monkeypatch):
    monkeypatch.setattr(agent_check, "CHECK_TIMEOUT", 0.5)
    manager = await open_manager(agents={"silent": {"argv": ["sleep", "299.25"]}})
    found = {a["name"]: a for a in await manager.check_agents()}["silent"]
    assert found["check"]["ok"] is False and "no answer to ACP initialize within 0.5 s" in found["check"]["error"]
    assert not [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "299.25"]]


def test_sign_in_is_read_from_the_agent_then_keys_then_the_login_it_left(tmp_path):
    from glue_jupyter.agents.registry import build_table

    gemini = build_table(tmp_path, {})["gemini"].sign_in
    home = {"HOME": str(tmp_path)}
    assert gemini.status(None, [], home) == {
        "signed_in": False, "detail": "no API key variable set and no login found"}
    assert gemini.status(None, [], {**home, "GEMINI_API_KEY": "k"}) == {"signed_in": True, "detail": "GEMINI_API_KEY is set"}
    (tmp_path / ".gemini").mkdir()
    (tmp_path / ".gemini" / "oauth_creds.json").write_text("{}")
    assert gemini.status(None, [], home)["detail"] == "signed in with its own login (~/.gemini/oauth_creds.json)"
    claude = build_table(tmp_path, {})["claude"].sign_in
    pushed = {"kind": "subscription", "label": "Claude Max"}
    assert claude.status(pushed, [], home) == {"signed_in": True, "detail": "Claude Max"}
    assert claude.status({"kind": "none", "label": "Not logged in"}, [], home)["signed_in"] is False
    codex = build_table(tmp_path, {})["codex"].sign_in
    offered = [{"id": "api-key", "name": "API Key"}, {"id": "chat-gpt", "name": "ChatGPT"}]
    said = codex.status({"kind": "none", "label": "Not logged in"}, offered, {**home, "OPENAI_API_KEY": "k"})
    assert said == {"signed_in": True, "detail": "OPENAI_API_KEY is set (glue signs in with it)"}
    assert "OPENAI_API_KEY" in codex.hint() and "codex login" in codex.hint()
