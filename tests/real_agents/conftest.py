"""The real agents, each offline against a loopback fake of its vendor's model API.

A `RealAgent` knows how to point one real agent at its fake: the environment (a private HOME,
the fake's URL, a dummy key) and the files its CLI reads there. Tests then drive it through
the engine exactly as a user's session would run, with glue's registry entry for the agent
(start mode, bypass modes, quirks) and only the launch command and environment overridden.

The agents are installed by `./dev test` (tests/real_agents/install.py). When they are not,
these tests skip with the reason, except in CI (`CI=true`), where that fails the run.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from fake_models import AnthropicFake, GeminiFake, OpenAIResponsesFake
from fake_models.server import FakeModel
from glue_jupyter.engine import EngineConfig, SessionManager
from glue_jupyter.engine.process import group_alive
from glue_jupyter.pytest_plugin import first_event

from .install import InstallError, install, program

WAIT = 60.0


@dataclass
class RealAgent:
    """One real agent binary and how to run it offline against its fake."""

    key: str                 # tests/real_agents/install.py PINS key
    agent: str               # the glue registry entry it runs as
    fake: type[FakeModel]
    # (home, fake, own settings, account) -> env. account: "fake" (signed in, talking to the
    # fake), "none" (signed out), "key" (a key for the vendor's own service: only for checks
    # and sign-in, never prompted).
    prepare: Callable[[Path, FakeModel, dict, str], dict[str, str]]
    # The agent's own settings that would make it write or run without asking (the default
    # of Claude's and Codex's newer adapter already does); glue must override them.
    bypass_settings: dict = field(default_factory=dict)
    args: list[str] = field(default_factory=list)  # after the program

    def __str__(self) -> str:
        return self.key


def _common_env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"), "XDG_STATE_HOME": str(home / ".local/state"),
        # Anything that tries the internet hits a closed local port instead.
        "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    }


def _claude(home: Path, fake: FakeModel, own: dict, account: str) -> dict[str, str]:
    own = {k: v for k, v in own.items() if k != "trusted"}
    if own:
        (home / ".claude").mkdir(parents=True, exist_ok=True)
        (home / ".claude" / "settings.json").write_text(json.dumps(own))
    return {**_common_env(home), "ANTHROPIC_BASE_URL": fake.url,
            "ANTHROPIC_API_KEY": "" if account == "none" else "sk-ant-fake",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1"}


def _codex(home: Path, fake: FakeModel, own: dict, account: str) -> dict[str, str]:
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    settings = "".join(f"{key} = {json.dumps(value)}\n" for key, value in own.get("config", {}).items())
    provider = ('model_provider = "fake"\n[model_providers.fake]\nname = "fake"\n'
                f'base_url = "{fake.url}/v1"\nwire_api = "responses"\nenv_key = "OPENAI_API_KEY"\n')
    (codex_home / "config.toml").write_text(
        settings + 'model = "gpt-5.5"\ncheck_for_update_on_startup = false\n'
        + (provider if account == "fake" else "")
        + "".join(f'[projects."{p}"]\ntrust_level = "trusted"\n' for p in own.get("trusted", [])))
    return {**_common_env(home), "CODEX_HOME": str(codex_home), "CODEX_API_KEY": "",
            "OPENAI_API_KEY": "" if account == "none" else "sk-fake", **own.get("env", {})}


def _gemini(home: Path, fake: FakeModel, own: dict, account: str) -> dict[str, str]:
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    own = dict(own)
    # Gemini CLI ignores a bolder default approval mode in a folder it does not trust.
    trusted = own.pop("trusted", [])
    (home / ".gemini" / "trustedFolders.json").write_text(json.dumps({p: "TRUST_FOLDER" for p in trusted}))
    settings = {"security": {"auth": {"selectedType": "gemini-api-key"}},
                "privacy": {"usageStatisticsEnabled": False}, "telemetry": {"enabled": False}, **own}
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings))
    return {**_common_env(home), "GOOGLE_GEMINI_BASE_URL": fake.url, "GOOGLE_API_KEY": "",
            "GEMINI_API_KEY": "" if account == "none" else "fake-key", "GOOGLE_GENAI_USE_VERTEXAI": "false"}


REAL_AGENTS = [
    RealAgent("claude", "claude", AnthropicFake, _claude,
              bypass_settings={"permissions": {"defaultMode": "acceptEdits"}}),
    RealAgent("codex", "codex", OpenAIResponsesFake, _codex,
              bypass_settings={"env": {"INITIAL_AGENT_MODE": "agent-full-access"}}),
    RealAgent("codex-zed", "codex", OpenAIResponsesFake, _codex,
              bypass_settings={"config": {"approval_policy": "never", "sandbox_mode": "danger-full-access"}}),
    RealAgent("gemini", "gemini", GeminiFake, _gemini, args=["--acp"],
              bypass_settings={"general": {"defaultApprovalMode": "auto_edit"}}),
]


@pytest.fixture(scope="session")
def real_agents_installed() -> Path:
    try:
        return install()
    except InstallError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the real agents could not be installed: {exc}")
        pytest.skip(f"the real agents are not installed ({exc}); ./dev test installs them")


@pytest.fixture(params=REAL_AGENTS, ids=str)
def real(request) -> RealAgent:
    return request.param


@pytest.fixture
def fake(real):
    with real.fake() as server:
        yield server


@dataclass
class Drive:
    """A real agent under a SessionManager, and the few waits the tests need."""

    real: RealAgent
    manager: SessionManager
    fake: FakeModel
    workdir: Path

    async def start(self, prompt: str | None = None) -> str:
        session = await self.manager.start_session(self.real.agent, str(self.workdir), prompt=prompt)
        assert session["state"] in ("idle", "running"), self.manager.events(session["id"])
        return session["id"]

    async def event(self, sid: str, predicate, after_seq: int = 0, timeout: float = WAIT) -> dict:
        return await first_event(self.manager, sid, predicate, after_seq, timeout)

    async def kind(self, sid: str, kind: str, after_seq: int = 0, **data) -> dict:
        return await self.event(sid, lambda e: e["kind"] == kind
                                and all(e["data"].get(k) == v for k, v in data.items()), after_seq)

    async def turn_end(self, sid: str, turn: int) -> dict:
        return await self.event(sid, lambda e: e["kind"] == "turn_end" and e["turn"] == turn)

    async def idle(self, sid: str) -> dict:
        return await self.manager.wait_for(sid, lambda s: s["state"] == "idle", WAIT)

    async def answer(self, sid: str, request: dict, kind: str) -> None:
        option = next(o["option_id"] for o in request["data"]["options"] if o["kind"] == kind)
        await self.manager.answer_permission(sid, request["data"]["request_id"], option)

    def events(self, sid: str, kind: str | None = None, turn: int | None = None) -> list[dict]:
        return [e for e in self.manager.events(sid)
                if (kind is None or e["kind"] == kind) and (turn is None or e["turn"] == turn)]

    def text(self, sid: str, turn: int) -> str:
        return "".join(e["data"]["text"] for e in self.events(sid, "agent_message_chunk", turn))

    def pgids(self, sid: str) -> list[int]:
        return [e["data"]["pid"] for e in self.events(sid, "process_start")]

    def group_gone(self, sid: str) -> bool:
        return not any(group_alive(pgid) for pgid in self.pgids(sid))


@pytest.fixture
async def drive(real, fake, real_agents_installed, tmp_path):
    """Open a manager on `real` (optionally with the agent's own bypassing settings)."""
    managers = []

    async def open_(policy: str = "ask", own_settings: dict | None = None, account: str = "fake") -> Drive:
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        workdir = tmp_path / "work"
        workdir.mkdir(exist_ok=True)
        settings = dict(own_settings or {})
        if settings:  # the agent's own settings apply in a folder it trusts
            settings.setdefault("trusted", [str(workdir)])
        env = real.prepare(home, fake, settings, account)
        argv = [str(program(real.key, real_agents_installed)), *real.args]
        manager = SessionManager(EngineConfig(
            db_path=tmp_path / "sessions.db", data_dir=tmp_path / "data", root_dir=workdir,
            agents={real.agent: {"argv": argv, "env": env}}, permission_policy=policy,
            stop_grace_period=5.0, interrupt_timeout=20.0, start_timeout=WAIT))
        await manager.open()
        managers.append(manager)
        return Drive(real, manager, fake, workdir)

    yield open_
    for manager in managers:
        if manager.store is not None:
            await asyncio.wait_for(manager.close(), 30)
