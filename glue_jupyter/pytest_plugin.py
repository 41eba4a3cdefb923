"""pytest fixtures for glue_jupyter: a real Jupyter server with the extension, on fast demo agents.

Use with pytest-jupyter (``pytest_plugins = ["pytest_jupyter.jupyter_server",
"glue_jupyter.pytest_plugin"]``)::

    async def test_prompt(glue_api):
        session = await glue_api.start(prompt="hello")
        await glue_api.wait_for(session["id"], "idle")

Waiting is always on a state or an event, with a timeout, never on a clock.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

REPO_ROOT = str(Path(__file__).resolve().parent.parent)
WAIT = 30.0


def demo_argv(state_dir: Path | str, *flags: str, pace: float = 0.01) -> list[str]:
    return [sys.executable, "-m", "glue_jupyter.agents.demo", "--state-dir", str(state_dir),
            "--pace", str(pace), *flags]


def demo_agents(state_dir: Path | str) -> dict[str, dict]:
    """The demo agent at test speed, plus variants the tests need."""
    # The package may run from a checkout: agents must import it from there too.
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [REPO_ROOT, os.environ.get("PYTHONPATH")]))}

    def entry(*flags: str, pace: float = 0.01) -> dict:
        return {"argv": demo_argv(state_dir, *flags, pace=pace), "env": env}

    return {
        "demo": entry(),
        "demo-slow": {**entry(pace=0.05), "title": "Demo agent, slower"},
        "demo-noload": {**entry("--no-load"), "title": "Demo agent without session/load"},
        "missing": {"argv": ["/nonexistent/glue-test-agent"], "title": "Not installed",
                    "install_hint": "It is never installed."},
    }


def require(items, folder: Path, marker: str, missing: str | None, what: str) -> None:
    """For `pytest_collection_modifyitems`: mark every test under `folder` with `marker`; when a
    prerequisite is `missing` (a sentence saying what and how to get it), fail the run in CI
    (CI=true) and skip those tests elsewhere, where -ra says why."""
    if missing and os.environ.get("CI"):
        raise pytest.UsageError(f"{what} cannot run: {missing}")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(folder):
            item.add_marker(getattr(pytest.mark, marker))
            if missing:
                item.add_marker(pytest.mark.skip(reason=missing))


async def first_event(manager, session_id: str, predicate: Callable[[dict], bool],
                      after_seq: int = 0, timeout: float = WAIT) -> dict:
    """The first event after `after_seq` matching `predicate`: replayed, or awaited live."""
    sub = manager.subscribe(session_id, after_seq)

    async def first():
        async for batch in sub:
            for event in batch:
                if predicate(event):
                    return event
        raise AssertionError("subscription ended")

    try:
        return await asyncio.wait_for(first(), timeout)
    finally:
        sub.close()


@pytest.fixture
async def jp_asyncio_loop():
    """pytest-jupyter's server loop is pytest-asyncio's loop: async tests and fixtures (run by
    pytest-asyncio in auto mode) then talk to a server that runs on the loop they run on."""
    yield asyncio.get_running_loop()


@pytest.fixture
def glue_config(tmp_path) -> dict[str, Any]:
    """`c.GlueApp` for tests: its own database, fast demo agents, short timeouts."""
    data = tmp_path / "glue_data"
    return {
        "db_path": str(data / "sessions.db"),
        "data_dir": str(data),
        "agents": demo_agents(data / "demo-agent"),
        "max_active_sessions": 3,
        "stop_grace_period": 2.0,
        "interrupt_timeout": 5.0,
        "stream_write_timeout": 1.0,
    }


@pytest.fixture
def jp_server_config(glue_config):
    return {"ServerApp": {"jpserver_extensions": {"glue_jupyter": True}}, "GlueApp": glue_config}


@pytest.fixture
def glue_server(jp_serverapp):
    """A Jupyter server (pytest-jupyter's, on the test's loop) with glue_jupyter enabled."""
    return jp_serverapp


@pytest.fixture
def glue_app(glue_server):
    """The GlueApp extension instance of `glue_server`."""
    return glue_server.extension_manager.extension_apps["glue_jupyter"].copy().pop()


@dataclass
class Stream:
    """A client of a glue WebSocket: read messages with a timeout, remember the last seq."""

    ws: Any
    last_seq: int = 0
    events: list[dict] = field(default_factory=list)
    live: bool = False

    async def next(self, timeout: float = WAIT) -> dict | None:
        raw = await asyncio.wait_for(self.ws.read_message(), timeout)
        if raw is None:
            return None
        message = json.loads(raw)
        if message.get("type") == "events":
            self.events.extend(message["events"])
            self.last_seq = message["events"][-1]["seq"]
        elif message.get("type") == "live":
            self.live = True
        return message

    async def until(self, predicate: Callable[[dict], bool], timeout: float = WAIT) -> dict:
        """Read until an event matching `predicate` arrived (already read ones count)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for event in self.events:
                if predicate(event):
                    return event
            if await self.next(max(0.01, deadline - loop.time())) is None:
                raise AssertionError(f"stream closed: {self.ws.close_code} {self.ws.close_reason}")

    def close(self) -> None:
        self.ws.close()


class GlueAPI:
    """The glue HTTP API of a test server, as a test reads it."""

    def __init__(self, app, fetch, ws_fetch):
        self.app = app
        self.manager = app.session_manager
        self._fetch = fetch
        self._ws_fetch = ws_fetch

    async def request(self, method: str, *path: str, body: Any = None, params=None,
                      headers=None) -> tuple[int, Any]:
        """(status, parsed JSON or None) for any outcome: errors are results here."""
        kwargs: dict[str, Any] = {"method": method, "raise_error": False}
        if body is not None:
            kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        elif method == "POST":
            kwargs["body"] = b""
        response = await self._fetch("api", "glue", *path, params=params, headers=headers,
                                     **kwargs)
        text = response.body.decode() if response.body else ""
        return response.code, (json.loads(text) if text else None)

    async def ok(self, method: str, *path: str, expect: int = 200, **kwargs) -> Any:
        status, reply = await self.request(method, *path, **kwargs)
        assert status == expect, f"{method} {'/'.join(path)}: {status} {reply}"
        return reply

    async def start(self, agent: str = "demo", prompt: str | None = None, cwd: str = ".",
                    title: str | None = None) -> dict:
        body = {"agent": agent, "cwd": cwd, "title": title, "prompt": prompt}
        return await self.ok("POST", "sessions", expect=201, body=body)

    async def control(self, session_id: str, control: str, expect: int = 200, **body) -> dict:
        return await self.ok("POST", "sessions", session_id, control, expect=expect, body=body)

    async def wait_for(self, session_id: str, state: str | Callable[[dict], bool],
                       timeout: float = WAIT) -> dict:
        predicate = state if callable(state) else (lambda s: s["state"] == state)
        return await self.manager.wait_for(session_id, predicate, timeout=timeout)

    async def wait_event(self, session_id: str, predicate: Callable[[dict], bool],
                         after_seq: int = 0, timeout: float = WAIT) -> dict:
        """The first event matching `predicate`, waiting on the engine's own stream."""
        return await first_event(self.manager, session_id, predicate, after_seq, timeout)

    async def events(self, session_id: str, after_seq: int = 0) -> list[dict]:
        reply = await self.ok("GET", "sessions", session_id, "events",
                              params={"after_seq": after_seq})
        return reply["events"]

    async def pids(self, session_id: str) -> list[int]:
        """Agent pids this session ever had, and tool pids its tool calls reported."""
        return [e["data"]["pid"] for e in await self.events(session_id)
                if e["kind"] == "process_start"]

    async def stream(self, session_id: str | None = None, after_seq: int = 0, **kwargs) -> Stream:
        if session_id is None:
            ws = await self._ws_fetch("api", "glue", "stream", **kwargs)
        else:
            ws = await self._ws_fetch("api", "glue", "sessions", session_id, "stream",
                                      params={"after_seq": after_seq}, **kwargs)
        return Stream(ws, last_seq=after_seq)


@pytest.fixture
def glue_api(glue_app, jp_fetch, jp_ws_fetch) -> GlueAPI:
    return GlueAPI(glue_app, jp_fetch, jp_ws_fetch)


# -- a real `jupyter server` subprocess (restart, crash and shutdown tests; the benchmark) ----


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerProcess:
    proc: asyncio.subprocess.Process
    url: str
    token: str
    log: list[str]

    def api(self, *path: str, **params) -> str:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self.url + "/".join(path) + query

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}


async def launch_server(home: Path, glue: dict[str, Any], *, token: str = "glue-test-token",
                        extra_args: tuple[str, ...] = (), timeout: float = 60.0,
                        root: Path | None = None) -> ServerProcess:
    """Start `jupyter server` on 127.0.0.1 with glue_jupyter configured by `glue` (c.GlueApp),
    and return once it listens and the extension has opened its database. Its root directory
    is `root` (default: `home/root`)."""
    home = Path(home)
    config_dir = home / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    config = {"ServerApp": {"jpserver_extensions": {"glue_jupyter": True}}, "GlueApp": glue}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config))
    root = Path(root) if root is not None else home / "root"
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(config_dir), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "PYTHONPATH": os.pathsep.join(filter(None, [REPO_ROOT, os.environ.get("PYTHONPATH")]))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--ServerApp.allow_root=True",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", *extra_args,
        env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )
    log: list[str] = []
    running = asyncio.Event()

    async def drain() -> None:
        # Keep reading so a chatty server never blocks on a full pipe.
        async for line in proc.stderr:
            text = line.decode(errors="replace").rstrip()
            log.append(text)
            # Logged by GlueApp's start hook, which the server runs after it bound its port.
            if "glue_jupyter: " in text and "sessions db at" in text:
                running.set()

    drained = asyncio.ensure_future(drain())
    proc._glue_drain = drained  # keep a reference for as long as the process lives
    up = asyncio.ensure_future(running.wait())
    await asyncio.wait({up, drained}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if not running.is_set():
        up.cancel()
        proc.kill()
        raise RuntimeError("jupyter server did not start:\n" + "\n".join(log[-30:]))
    return ServerProcess(proc, f"http://127.0.0.1:{port}/", token, log)


async def end_server(server: ServerProcess, sig: int | None = None, timeout: float = 30.0) -> int:
    """Send `sig` (SIGTERM by default: a clean shutdown) and wait for the server to exit."""
    import signal

    if server.proc.returncode is None:
        server.proc.send_signal(signal.SIGTERM if sig is None else sig)
    try:
        return await asyncio.wait_for(server.proc.wait(), timeout)
    finally:
        if server.proc.returncode is None:
            server.proc.kill()


@pytest.fixture
async def glue_server_process(tmp_path):
    """Factory: `await glue_server_process(glue_config)` -> a ServerProcess, ended at teardown.
    Every server of a test has the same root directory as the test's own (`jp_root_dir`), so a
    restarted server, or the in-process one, can resume the sessions of an earlier one."""
    started: list[ServerProcess] = []

    async def launch(glue: dict[str, Any], **kwargs) -> ServerProcess:
        kwargs.setdefault("root", tmp_path / "root_dir")
        server = await launch_server(tmp_path / f"server{len(started)}", glue, **kwargs)
        started.append(server)
        return server

    yield launch
    for server in started:
        await end_server(server)
