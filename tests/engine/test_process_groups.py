"""Agent process groups never outlive glue: not after a crash, and a recycled pid is never hit.

A real engine runs in a child process that the tests kill with SIGKILL (no shutdown of any
kind), with real demo agents and their tool processes; the OS (/proc) is the judge.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import psutil
import pytest

from glue_jupyter.engine import SessionManager
from glue_jupyter.engine.groups import MARKER_VARIABLE
from glue_jupyter.engine.groups.watchdog import start_ticks
from glue_jupyter.engine.store import Store
from glue_jupyter.testing import census, child_engine
from glue_jupyter.testing.child_engine import config

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
WAIT = 30

# A running turn (its tool: `sleep 300`) and a paused (frozen) session: every process of the
# two agents' groups.
BUSY_AND_PAUSED = """
    async def scene(manager, folder):
        busy = await manager.start_session("demo", str(folder), prompt="sleep")
        sub = manager.subscribe(busy["id"])
        tool = None
        async for batch in sub:
            found = [e for e in batch if e["kind"] == "tool_call" and "pid=" in json.dumps(e)]
            if found:
                tool = int(re.search(r"pid=(\\d+)", json.dumps(found[0])).group(1))
                break
        paused = await manager.start_session("demo", str(folder))
        await manager.pause(paused["id"])
        groups = {sid: manager.sessions[sid].process.pgid for sid in (busy["id"], paused["id"])}
        return {"groups": groups, "tool": tool, "watchdog": manager.groups._watchdog.pid}
"""


def group_processes(pgids) -> list[int]:
    return [p.pid for p in census.in_groups(set(pgids))]


def kill_groups(pgids) -> None:
    """Whatever a failed test left: never let it outlive the test."""
    for pgid in pgids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


def run_engine(folder: Path) -> tuple[subprocess.Popen, dict]:
    engine, found = child_engine.run(folder, BUSY_AND_PAUSED)
    assert found["tool"] in group_processes(found["groups"].values())
    return engine, found


def test_the_watchdog_ends_every_group_when_the_engine_is_killed(tmp_path):
    engine, found = run_engine(tmp_path)
    pgids = list(found["groups"].values())
    try:
        survivors = [psutil.Process(pid) for pid in group_processes(pgids)]
        assert len(survivors) >= 3  # two agents (one frozen) and the running turn's `sleep 300`
        engine.kill()
        engine.wait()
        # Nothing ran in the engine after SIGKILL: only the watchdog can end them (SIGTERM, and
        # SIGKILL after the 2 s grace period the engine was configured with).
        _, alive = psutil.wait_procs(survivors, timeout=WAIT)
        assert alive == []
        assert group_processes(pgids) == []
        with contextlib.suppress(psutil.NoSuchProcess):  # and it goes away itself
            psutil.Process(found["watchdog"]).wait(WAIT)
    finally:
        kill_groups(pgids)


async def test_the_next_open_ends_what_a_crash_left_when_the_watchdog_died_too(tmp_path):
    engine, found = run_engine(tmp_path)
    pgids = list(found["groups"].values())
    os.kill(found["watchdog"], signal.SIGKILL)  # the crash takes both down at once
    engine.kill()
    engine.wait()
    manager = SessionManager(config(tmp_path))
    try:
        # Left behind for good: the paused agent is frozen, it cannot even notice its stdin closed.
        assert [p for p in census.in_groups(set(pgids)) if p.state == "T"]
        await manager.open()
        assert group_processes(pgids) == []  # ended before open returned
        busy, paused = found["groups"]
        notices = [e["data"]["text"] for e in manager.events(paused) if e["kind"] == "notice"]
        assert "Ended 1 process that its agent left running when the server stopped." in notices
        assert {manager.get(busy)["state"], manager.get(paused)["state"]} == {"failed"}
        assert manager.store.groups() == []
    finally:
        kill_groups(pgids)
        if manager.store is not None:
            await manager.close()


async def test_a_recorded_group_whose_pid_was_recycled_is_never_signalled(tmp_path):
    """A row whose pgid now belongs to some other process (another start time, no marker) is
    dropped without a signal; a row that still matches is ended."""
    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)
    ours = subprocess.Popen(["sleep", "60"], start_new_session=True,
                            env={**os.environ, MARKER_VARIABLE: "ours"})
    try:
        manager = SessionManager(config(tmp_path))
        await manager.open()
        await manager.close()
        store = Store(tmp_path / "sessions.db")
        dead_owner = {"boot_id": Path("/proc/sys/kernel/random/boot_id").read_text().strip(),
                      "argv": "[]", "owner_pid": os.getpid(), "owner_start_ticks": 0, "session_id": "gone"}
        store.add_group({**dead_owner, "pgid": stranger.pid, "start_ticks": start_ticks(stranger.pid) - 1,
                         "marker": "not-its-marker"})
        store.add_group({**dead_owner, "pgid": ours.pid, "start_ticks": start_ticks(ours.pid) - 1,
                         "marker": "ours"})  # the leader changed? its marker still proves it ours
        store.close()

        manager = SessionManager(config(tmp_path))
        await manager.open()
        try:
            assert stranger.poll() is None  # untouched
            assert ours.wait(WAIT) == -signal.SIGTERM
            assert manager.store.groups() == []
        finally:
            await manager.close()
    finally:
        stranger.kill()
        ours.kill()
        stranger.wait()
        ours.wait()


async def test_a_group_of_a_program_still_running_is_left_alone(tmp_path):
    """Two managers on one database (one server and an embedded engine, say): opening the second
    never ends the first's agents."""
    first = SessionManager(config(tmp_path))
    await first.open()
    store = first.store
    sleeper = subprocess.Popen(["sleep", "60"], start_new_session=True, env={**os.environ, MARKER_VARIABLE: "m"})
    try:
        first.groups.track("s", sleeper.pid, {MARKER_VARIABLE: "m"}, ["sleep", "60"])
        second = SessionManager(config(tmp_path))
        await second.open()
        await second.close()
        assert sleeper.poll() is None
        assert [row["pgid"] for row in store.groups()] == [sleeper.pid]
    finally:
        first.groups.untrack(sleeper.pid)
        await first.close()
        sleeper.kill()
        sleeper.wait()
