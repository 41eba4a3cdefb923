"""Controls that race each other on real demo agents: nothing leaks, slots stay exact.

The OS is the judge (glue_jupyter.testing.census reads /proc): an agent process alive for a
session that is not live, or a session live without its agent, is a bug however the engine
describes itself.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from glue_jupyter.engine import IllegalControl, SessionManager
from glue_jupyter.testing import census
from glue_jupyter.testing.storm import MARKER, MAX_DELAY_MS, PROMPTS, WEIGHTED_CONTROLS, demo_config, run_storm

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


async def test_stop_between_two_resumes_leaks_no_agent(tmp_path):
    """The issue's storm in miniature: resume, stop and resume again, all at once, at a limit of 1."""
    marker, config = demo_config(tmp_path, max_active_sessions=1)
    manager = SessionManager(config)
    await manager.open()
    try:
        first = await manager.start_session("demo", str(tmp_path))
        await manager.stop(first["id"])
        results = await asyncio.gather(
            manager.resume(first["id"]), manager.stop(first["id"]), manager.resume(first["id"]),
            return_exceptions=True)
        # The stop overtook the first resume's launch; the second resume came while it was
        # still starting and was refused at once, naming that state.
        assert isinstance(results[2], IllegalControl) and "it is starting" in str(results[2])
        assert manager.get(first["id"])["state"] == "stopped"
        assert census.marked(MARKER, marker) == []
        assert manager.info()["active"] == 0
        # The slot is really free: another session starts, and it is the only agent alive.
        other = await manager.start_session("demo", str(tmp_path))
        agents = [p for p in census.marked(MARKER, marker) if p.pid == p.pgid]
        assert [p.pid for p in agents] == [manager.sessions[other["id"]].process.pid]
    finally:
        await manager.close()
    assert census.marked(MARKER, marker) == []


async def test_stop_overtakes_a_starting_launch_at_once(tmp_path):
    """A stop does not wait for a slow start to finish: the launch is cancelled and reaped."""
    marker, config = demo_config(tmp_path)
    # An agent that never answers `initialize` (it reads stdin and says nothing).
    config.agents["mute"] = {"argv": [sys.executable, "-c", "import sys; sys.stdin.read()"],
                             "env": {MARKER: marker}}
    manager = SessionManager(config)
    await manager.open()
    try:
        watch = manager.watch()
        starting = asyncio.ensure_future(manager.start_session("mute", str(tmp_path)))
        sid = (await anext(watch))["session"]["id"]
        watch.close()
        # It would take start_timeout (60 s) to give up on its own.
        stopped = await asyncio.wait_for(manager.stop(sid), 5)
        assert stopped["state"] == "stopped"
        await starting  # returned too, as soon as the stop cancelled its launch
        assert manager.get(sid)["state"] == "stopped"
        assert census.marked(MARKER, marker) == []
    finally:
        await manager.close()


def storm_rounds(sessions: int = 2, width: int = 5, count: int = 10):
    """Rounds of controls as glue_jupyter.testing.storm fires them; most arrive at once."""
    control = st.tuples(
        st.integers(0, sessions - 1), st.sampled_from(WEIGHTED_CONTROLS), st.integers(0, len(PROMPTS) - 1),
        st.one_of(st.just(0), st.integers(0, MAX_DELAY_MS)))
    return st.lists(st.lists(control, min_size=1, max_size=width), min_size=1, max_size=count)


# The race of issue 9, spelled out: resume, and while it spawns, stop and resume again.
RESUME_STOP_RESUME = [[(0, "stop", 0, 0)], [(0, "resume", 0, 0), (0, "stop", 0, 0), (0, "resume", 0, 0)]]


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@example(RESUME_STOP_RESUME)
@given(storm_rounds())
def test_random_controls_keep_the_os_and_the_engine_in_agreement(rounds):
    with tempfile.TemporaryDirectory() as folder:
        # Two sessions to begin with, at a limit of two, so that slots are contended.
        opening = [[(0, "start", 0, 0), (1, "start", 1, 0)]]
        found, _ = asyncio.run(run_storm(Path(folder), opening + rounds, max_active_sessions=2))
    assert found == []
