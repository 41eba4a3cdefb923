"""Engine fixtures: a SessionManager on a temporary database, with fast real demo agents."""

from __future__ import annotations

import sys

import pytest

from glue_jupyter.engine import EngineConfig, SessionManager
from glue_jupyter.pytest_plugin import first_event


def demo_argv(*flags: str, pace: str = "0.02") -> list[str]:
    return [sys.executable, "-m", "glue_jupyter.agents.demo", "--pace", pace, *flags]


@pytest.fixture
def workdir(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "utils.py").write_text("def load():\n    return 1\n")
    return folder


@pytest.fixture
def make_config(tmp_path, workdir):
    def make(**overrides) -> EngineConfig:
        state = str(tmp_path / "demo-state")
        agents = {
            "demo": {"argv": demo_argv("--state-dir", state)},
            "demo-slow": {"argv": demo_argv("--state-dir", state, pace="0.3")},
            "demo-refuse": {"argv": demo_argv("--state-dir", state, "--refuse-load")},
            "demo-noload": {"argv": demo_argv("--state-dir", state, "--no-load")},
            "demo-plain": {"argv": demo_argv("--state-dir", state, "--no-embedded-context")},
            "demo-steer": {"argv": demo_argv("--state-dir", state, "--steering")},
            "demo-nofork": {"argv": demo_argv("--state-dir", state, "--no-fork")},
            # Ignores SIGTERM and outlives its stdin: only SIGKILL ends it (and its `sleep`).
            "demo-stubborn": {"argv": [
                "sh", "-c", 'trap "" TERM; "$0" "$@"; while :; do sleep 1; done',
                *demo_argv("--state-dir", state, "--ignore-sigterm")]},
        }
        agents.update(overrides.pop("agents", {}))
        return EngineConfig(
            db_path=tmp_path / "sessions.db", data_dir=tmp_path / "data", root_dir=overrides.pop("root_dir", workdir),
            agents=agents, stop_grace_period=overrides.pop("stop_grace_period", 2.0),
            interrupt_timeout=overrides.pop("interrupt_timeout", 5.0), **overrides,
        )

    return make


@pytest.fixture
async def open_manager(make_config):
    managers = []

    async def open_(**overrides) -> SessionManager:
        manager = SessionManager(make_config(**overrides))
        await manager.open()
        managers.append(manager)
        return manager

    yield open_
    for manager in managers:
        if manager.store is not None:
            await manager.close()


@pytest.fixture
async def manager(open_manager):
    return await open_manager()


class Waiter:
    """Wait on what the engine records, never on the clock."""

    def __init__(self, manager: SessionManager):
        self.manager = manager

    async def state(self, session_id: str, *states: str, timeout: float = 20) -> dict:
        return await self.manager.wait_for(session_id, lambda s: s["state"] in states, timeout)

    async def event(self, session_id: str, predicate, after_seq: int = 0, timeout: float = 20) -> dict:
        return await first_event(self.manager, session_id, predicate, after_seq, timeout)

    async def kind(self, session_id: str, kind: str, after_seq: int = 0, timeout: float = 20, **data) -> dict:
        return await self.event(
            session_id,
            lambda e: e["kind"] == kind and all(e["data"].get(k) == v for k, v in data.items()),
            after_seq, timeout,
        )

    async def turn_end(self, session_id: str, after_seq: int = 0, timeout: float = 20) -> dict:
        return await self.kind(session_id, "turn_end", after_seq, timeout)

    async def checkpointed(self, session_id: str, after_seq: int = 0, timeout: float = 20) -> dict:
        """A turn's end as a user sees it: its changes listed (recorded after turn_end) and the
        session idle again. Returns the turn_changes event."""
        summary = await self.kind(session_id, "turn_changes", after_seq, timeout)
        await self.state(session_id, "idle", timeout=timeout)
        return summary

    def text(self, session_id: str, turn: int | None = None) -> str:
        return "".join(
            e["data"]["text"] for e in self.manager.events(session_id)
            if e["kind"] == "agent_message_chunk" and (turn is None or e["turn"] == turn)
        )


@pytest.fixture
def wait(manager):
    return Waiter(manager)


@pytest.fixture
def make_waiter():
    return Waiter
