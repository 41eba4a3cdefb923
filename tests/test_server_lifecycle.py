"""The extension's life: configuration, idle culling, shutdown without orphans, restarts."""

from __future__ import annotations

import dataclasses
import json
import re
import signal
from pathlib import Path

import psutil
import pytest
from tornado.httpclient import AsyncHTTPClient

from glue_jupyter.engine import EngineConfig
from glue_jupyter.pytest_plugin import end_server
from glue_jupyter.server.app import ACTIVITY_KEY, GlueApp

WAIT = 30


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def all_pids(glue_api, sid: str) -> list[int]:
    """The agent processes of a session, and the tool processes its tool calls reported."""
    pids = []
    for event in await glue_api.events(sid):
        if event["kind"] == "process_start":
            pids.append(event["data"]["pid"])
        if event["kind"] == "tool_call":
            pids += [int(p) for p in re.findall(r"pid=(\d+)", json.dumps(event["data"]))]
    return pids


async def a_busy_house(glue_api) -> dict[str, str]:
    """One session running a tool process, one paused (frozen), one idle."""
    busy = (await glue_api.start(prompt="sleep"))["id"]
    await glue_api.wait_event(busy, lambda e: e["kind"] == "tool_call" and "pid=" in json.dumps(e))
    frozen = (await glue_api.start())["id"]
    await glue_api.wait_for(frozen, "idle")
    await glue_api.control(frozen, "pause")
    idle = (await glue_api.start())["id"]
    await glue_api.wait_for(idle, "idle")
    return {"running": busy, "paused": frozen, "idle": idle}


# -- configuration -------------------------------------------------------------------------


def test_every_engine_setting_is_a_configurable_trait():
    traits = GlueApp.class_traits(config=True)
    for field in dataclasses.fields(EngineConfig):
        assert field.name in traits, field.name
        assert traits[field.name].help, field.name


async def test_config_reaches_the_engine(glue_app, glue_config, jp_root_dir):
    config = glue_app.session_manager.config
    assert config.max_active_sessions == 3
    assert config.stop_grace_period == 2.0
    assert config.interrupt_timeout == 5.0
    assert str(config.db_path) == glue_config["db_path"]
    assert config.root_dir == Path(jp_root_dir)  # the server's, when not configured
    assert set(glue_config["agents"]) <= set(glue_app.session_manager.agents_table)


class TestDefaults:
    @pytest.fixture
    def jp_server_config(self):
        return {"ServerApp": {"jpserver_extensions": {"glue_jupyter": True}}}

    async def test_no_configuration_needed(self, glue_app, glue_api, jp_data_dir, jp_root_dir):
        config = glue_app.session_manager.config
        assert config.db_path == Path(jp_data_dir) / "glue_jupyter" / "sessions.db"
        assert config.root_dir == Path(jp_root_dir)
        assert config.permission_policy == "ask" and config.max_active_sessions == 4
        assert (await glue_api.ok("GET", "info"))["limit"] == 4
        assert config.db_path.exists()


# -- idle culling --------------------------------------------------------------------------


async def test_running_sessions_keep_an_idle_server_alive(glue_server, glue_app, glue_api,
                                                          monkeypatch):
    stops = []
    monkeypatch.setattr(glue_server, "stop", lambda *a, **k: stops.append(1))
    monkeypatch.setattr(glue_server, "shutdown_no_activity_timeout", 0)
    assert glue_app.current_activity() is None

    sid = (await glue_api.start(prompt="sleep"))["id"]
    assert glue_app.current_activity() == [sid]
    assert glue_server.extension_manager.any_activity()
    glue_server.shutdown_no_activity()
    assert stops == []  # mid-turn: never culled

    before = glue_server.web_app.settings["last_activity_times"][ACTIVITY_KEY]
    await glue_api.control(sid, "interrupt")
    assert glue_app.current_activity() is None
    assert glue_server.web_app.settings["last_activity_times"][ACTIVITY_KEY] > before
    assert glue_server.web_app.last_activity() >= before
    glue_server.shutdown_no_activity()
    assert stops == [1]  # idle now, and the timeout is 0


# -- shutdown ------------------------------------------------------------------------------


async def test_stop_extension_ends_every_agent_process(glue_app, glue_api):
    house = await a_busy_house(glue_api)
    pids = [pid for sid in house.values() for pid in await all_pids(glue_api, sid)]
    assert len(pids) >= 4 and all(alive(pid) for pid in pids)

    await glue_app.stop_extension()

    assert [pid for pid in pids if alive(pid)] == []
    states = {name: glue_app.session_manager.sessions[sid].state.value for name, sid in house.items()}
    assert states == {"running": "stopped", "paused": "stopped", "idle": "stopped"}


async def http(server, method, *path, body=None, expect=200):
    client = AsyncHTTPClient(force_instance=True)  # not pytest-jupyter's, bound to its server
    payload = json.dumps(body) if body is not None else (b"" if method == "POST" else None)
    try:
        response = await client.fetch(server.api("api/glue", *path), method=method, body=payload,
                                      headers=server.headers, raise_error=False,
                                      request_timeout=WAIT)
    finally:
        client.close()
    assert response.code == expect, (method, path, response.code, response.body)
    return json.loads(response.body) if response.body else None


async def test_server_shutdown_leaves_no_orphan_and_a_restart_keeps_everything(
        glue_server_process, glue_config):
    first = await glue_server_process(glue_config)
    busy = await http(first, "POST", "sessions", body={"agent": "demo", "prompt": "sleep"},
                      expect=201)
    idle = await http(first, "POST", "sessions", body={"agent": "demo", "prompt": "quick"},
                      expect=201)
    events = {}
    for sid in (busy["id"], idle["id"]):
        reply = await http(first, "GET", "sessions", sid, "events")
        events[sid] = reply["events"]
    pids = [e["data"]["pid"] for evs in events.values() for e in evs if e["kind"] == "process_start"]
    assert len(pids) == 2 and all(alive(pid) for pid in pids)

    assert await end_server(first, signal.SIGTERM) == 0
    assert [pid for pid in pids if alive(pid)] == []

    second = await glue_server_process(glue_config)
    listed = {s["id"]: s for s in (await http(second, "GET", "sessions"))["sessions"]}
    assert {listed[busy["id"]]["state"], listed[idle["id"]]["state"]} == {"stopped"}
    for sid, before in events.items():
        after = (await http(second, "GET", "sessions", sid, "events"))["events"]
        assert after[: len(before)] == before  # nothing lost, nothing rewritten
    resumed = await http(second, "POST", "sessions", idle["id"], "resume", body={"prompt": "recall"})
    assert resumed["resumed_via"] == "native"


async def test_crash_restart_brings_live_sessions_back_failed_and_resumable(
        glue_server_process, glue_config, glue_api):
    crashed = await glue_server_process(glue_config)
    live = await http(crashed, "POST", "sessions", body={"agent": "demo", "prompt": "quick"},
                      expect=201)
    done = await http(crashed, "POST", "sessions", body={"agent": "demo", "prompt": "quick"},
                      expect=201)
    await http(crashed, "POST", "sessions", done["id"], "stop")
    before = (await http(crashed, "GET", "sessions", live["id"], "events"))["events"]
    agent_pid = next(e["data"]["pid"] for e in before if e["kind"] == "process_start")
    await end_server(crashed, signal.SIGKILL)
    try:
        # The same database, opened by this test's own server (glue_api): as after a crash.
        back = await glue_api.ok("GET", "sessions", live["id"])
        assert back["state"] == "failed" and "server stopped" in back["error"]
        assert (await glue_api.ok("GET", "sessions", done["id"]))["state"] == "stopped"
        after = await glue_api.events(live["id"])
        assert after[: len(before)] == before

        resumed = await glue_api.control(live["id"], "resume", prompt="recall")
        assert resumed["resumed_via"] == "native"
        await glue_api.wait_for(live["id"], "idle")
        last_turn = resumed["turns"]
        reply = "".join(e["data"]["text"] for e in await glue_api.events(live["id"])
                        if e["kind"] == "agent_message_chunk" and e["turn"] == last_turn)
        assert "quick" in reply  # the agent remembers the turn from before the crash
    finally:
        if alive(agent_pid):  # orphaned by the SIGKILL: no server was left to end it
            print("agent outlived the crashed server:", agent_pid)
            psutil.Process(agent_pid).kill()


async def test_sigint_without_a_terminal_is_a_clean_stop(glue_server_process, glue_config):
    """JupyterHub's local spawners stop a server with SIGINT first (stdin is not a terminal):
    every agent process group ends and the sessions come back stopped, not failed."""
    server = await glue_server_process(glue_config)
    busy = await http(server, "POST", "sessions", body={"agent": "demo", "prompt": "sleep"}, expect=201)
    idle = await http(server, "POST", "sessions", body={"agent": "demo", "prompt": "quick"}, expect=201)
    paused = await http(server, "POST", "sessions", body={"agent": "demo"}, expect=201)
    await http(server, "POST", "sessions", paused["id"], "pause")
    pids = []
    for sid in (busy["id"], idle["id"], paused["id"]):
        events = (await http(server, "GET", "sessions", sid, "events"))["events"]
        pids += [e["data"]["pid"] for e in events if e["kind"] == "process_start"]
    assert len(pids) == 3 and all(alive(pid) for pid in pids)

    await end_server(server, signal.SIGINT)
    assert "received signal" in "\n".join(server.log)  # the clean path, not a KeyboardInterrupt
    assert [pid for pid in pids if alive(pid)] == []

    again = await glue_server_process(glue_config)
    states = {s["id"]: s["state"] for s in (await http(again, "GET", "sessions"))["sessions"]}
    assert states == {busy["id"]: "stopped", idle["id"]: "stopped", paused["id"]: "stopped"}


class TestHubEnvironment:
    """What a JupyterHub spawner sets in the single-user server's environment."""

    @pytest.fixture
    def glue_config(self, glue_config):
        del glue_config["max_active_sessions"]  # left to the environment
        return {**glue_config, "busy_activity_interval": 0.05}

    @pytest.fixture(autouse=True)
    def hub_env(self, monkeypatch):
        monkeypatch.setenv("GLUE_JUPYTER_MAX_ACTIVE_SESSIONS", "2")

    async def test_limit_from_the_spawner_environment(self, glue_api):
        assert (await glue_api.ok("GET", "info"))["limit"] == 2
        for _ in range(2):
            await glue_api.start()
        status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo"})
        assert status == 409 and "2" in reply["message"]

    async def test_a_running_turn_keeps_the_activity_fresh_without_state_changes(self, glue_server,
                                                                                glue_api):
        times = glue_server.web_app.settings["last_activity_times"]
        asking = (await glue_api.start(prompt="write notes.txt"))["id"]
        await glue_api.wait_for(asking, lambda s: s["pending_permissions"] == 1)
        # From here nothing happens in the session: it waits for the user.
        first = times[ACTIVITY_KEY]
        await until(lambda: times[ACTIVITY_KEY] > first)
        second = times[ACTIVITY_KEY]
        await until(lambda: times[ACTIVITY_KEY] > second)
        assert glue_server.web_app.last_activity() >= times[ACTIVITY_KEY]
        assert (await glue_api.ok("GET", "sessions", asking))["last_seq"] == \
            (await glue_api.events(asking))[-1]["seq"]


def test_a_bad_limit_in_the_environment_is_a_clear_error(monkeypatch):
    from traitlets import TraitError

    monkeypatch.setenv("GLUE_JUPYTER_MAX_ACTIVE_SESSIONS", "lots")
    with pytest.raises(TraitError, match="GLUE_JUPYTER_MAX_ACTIVE_SESSIONS must be a whole number"):
        GlueApp().max_active_sessions


def test_busy_activity_follows_the_hub_interval(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_ACTIVITY_INTERVAL", "10")
    assert GlueApp().busy_activity_interval == 5
    monkeypatch.delenv("JUPYTERHUB_ACTIVITY_INTERVAL")
    assert GlueApp().busy_activity_interval == 60


async def until(predicate, timeout: float = WAIT) -> None:
    """Wait until `predicate()` holds (checked every 10 ms), or fail after `timeout`."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)
