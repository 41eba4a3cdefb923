"""Transcripts are the user's alone: glue's data folder is 0700, the database and its -wal/-shm
and the demo agent's histories are 0600 — when created, and repaired when an older version left
them readable by others."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from glue_jupyter.engine import EngineConfig, SessionManager
from glue_jupyter.engine.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def config(data: Path, workdir: Path) -> EngineConfig:
    """The default layout: the database and the demo agent's state in glue's data folder."""
    demo = [sys.executable, "-m", "glue_jupyter.agents.demo", "--pace", "0.01", "--state-dir", str(data / "demo-agent")]
    return EngineConfig(data_dir=data, root_dir=workdir, agents={"demo": {"argv": demo}})


async def a_session_with_history(manager, workdir: Path, wait) -> None:
    session = await manager.start_session("demo", str(workdir), prompt="quick")
    await wait(manager).turn_end(session["id"])
    await manager.stop(session["id"])  # the demo agent saves its history on every turn


def assert_private(data: Path) -> None:
    db = data / "sessions.db"
    assert mode(data) == 0o700
    assert {p.name: mode(p) for p in data.glob("sessions.db*")} == \
        {db.name: 0o600, db.name + "-wal": 0o600, db.name + "-shm": 0o600}
    histories = list((data / "demo-agent").glob("*.json"))
    assert histories and mode(data / "demo-agent") == 0o700
    assert {mode(p) for p in histories} == {0o600}


async def test_everything_glue_writes_is_private(tmp_path, workdir, make_waiter):
    old_umask = os.umask(0o022)  # the usual umask: left alone, files would be 0644
    try:
        manager = SessionManager(config(tmp_path / "data", workdir))
        await manager.open()
        try:
            await a_session_with_history(manager, workdir, make_waiter)
            assert_private(tmp_path / "data")
        finally:
            await manager.close()
    finally:
        os.umask(old_umask)


async def test_what_an_older_version_left_readable_is_made_private(tmp_path, workdir, make_waiter):
    data = tmp_path / "data"
    manager = SessionManager(config(data, workdir))
    await manager.open()
    await a_session_with_history(manager, workdir, make_waiter)
    store = Store(data / "sessions.db")  # a second connection keeps -wal and -shm in place
    await manager.close()
    for path in [data, data / "demo-agent"]:
        os.chmod(path, 0o755)
    for path in [*data.glob("sessions.db*"), *(data / "demo-agent").glob("*.json")]:
        os.chmod(path, 0o644)
    try:
        manager = SessionManager(config(data, workdir))
        await manager.open()
        try:
            await a_session_with_history(manager, workdir, make_waiter)
            assert_private(data)
        finally:
            await manager.close()
    finally:
        store.close()
