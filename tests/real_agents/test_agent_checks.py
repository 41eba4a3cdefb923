"""Before a session: is the agent installed (which version), signed in, and what can it do?
And a start without a sign-in says which variable or login fixes it."""

from __future__ import annotations

import pytest

from .agents import REAL_AGENTS
from .install import PINS


def entry(d, name: str) -> dict:
    return next(a for a in d.manager.agents() if a["name"] == name)


async def test_a_check_says_version_capabilities_and_sign_in(drive, real):
    d = await drive()
    checked = next(a for a in await d.manager.check_agents() if a["name"] == real.agent)
    assert checked["installed"] and checked["check"]["ok"], checked["check"]
    assert checked["version"] == PINS[real.key].version
    assert checked["signed_in"] is True, checked["sign_in"]
    assert checked["capabilities"]["load"] is True and "text" in checked["capabilities"]["prompt"]
    assert checked["modes"]["start"] and checked["modes"]["bypass"]
    # Cached: asking again starts nothing.
    before = checked["check"]["checked_at"]
    assert entry(d, real.agent)["check"]["checked_at"] == before
    again = next(a for a in await d.manager.check_agents() if a["name"] == real.agent)
    assert again["check"]["checked_at"] == before


async def test_without_a_sign_in_the_check_and_the_start_say_how_to_sign_in(drive, real):
    d = await drive(account="none")
    checked = next(a for a in await d.manager.check_agents() if a["name"] == real.agent)
    assert checked["check"]["ok"] and checked["signed_in"] is False, checked["sign_in"]
    spec = d.manager.agents_table[real.agent]
    variable = spec.sign_in.env[0]
    assert variable in checked["sign_in"]["hint"]
    session = await d.manager.start_session(real.agent, str(d.workdir), prompt="Hello")
    sid = session["id"]
    if session["state"] != "failed":  # Claude Code only refuses at the first prompt
        await d.turn_end(sid, 1)
        session = d.manager.get(sid)
    said = " ".join([session["error"] or ""] + [e["data"]["text"] for e in d.events(sid, "notice")])
    assert "not signed in" in said and variable in said, said


@pytest.mark.parametrize("real", [a for a in REAL_AGENTS if a.agent == "codex"], indirect=True, ids=str)
async def test_a_codex_key_in_the_environment_signs_codex_in(drive, real, tmp_path):
    """Codex's adapters refuse a session until `authenticate`: glue does it with the key set."""
    d = await drive(account="key")
    checked = next(a for a in await d.manager.check_agents() if a["name"] == real.agent)
    assert checked["signed_in"] is True and "OPENAI_API_KEY" in checked["sign_in"]["detail"]
    login = tmp_path / "home" / ".codex" / "auth.json"
    assert not login.exists()
    session = await d.manager.start_session(real.agent, str(d.workdir))
    assert session["state"] == "idle", session["error"]
    assert login.exists()  # Codex's own login, made by the `authenticate` glue sent
