"""The real agents, each offline against a loopback fake of its vendor's model API.

Each agent of agents.py is driven through the engine exactly as a user's session would run,
with glue's registry entry for the agent (start mode, bypass modes, quirks) and only the launch
command and environment overridden.

The agents are installed by `./dev test` (tests/real_agents/install.py). When they are not,
these tests skip with the reason, except in CI (`CI=true`), where that fails the run.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from fake_models.server import FakeModel
from glue_jupyter.engine import EngineConfig, SessionManager
from glue_jupyter.engine.process import group_alive
from glue_jupyter.pytest_plugin import first_event

from .agents import REAL_AGENTS, RealAgent
from .install import InstallError, install, program

WAIT = 60.0


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
