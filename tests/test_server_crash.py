"""A real `jupyter server` that dies without its shutdown leaves no agent process behind.

SIGKILL runs nothing of the server; SIGINT with stdin not a terminal is how JupyterHub's local
spawners stop it. Either way, no process of any agent's group survives: not the agent, not a
frozen (paused) agent, not the tool process a running turn started.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
from pathlib import Path

import psutil
import pytest
from tornado.httpclient import AsyncHTTPClient

from glue_jupyter.pytest_plugin import end_server
from glue_jupyter.testing import census

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
WAIT = 30


async def call(server, method: str, *path: str, body: dict | None = None) -> dict:
    client = AsyncHTTPClient()
    response = await client.fetch(server.api("api/glue", *path), method=method, headers=server.headers,
                                   body=None if method == "GET" else json.dumps(body or {}), request_timeout=WAIT)
    return json.loads(response.body) if response.body else {}


async def a_busy_server(glue_server_process, glue_config):
    """A server with a turn running a tool process (`sleep 300`) and a paused session."""
    server = await glue_server_process(glue_config)
    busy = await call(server, "POST", "sessions", body={"agent": "demo", "prompt": "sleep"})
    paused = await call(server, "POST", "sessions", body={"agent": "demo"})
    await call(server, "POST", "sessions", paused["id"], "pause")
    pgids, tool = [], None
    for _ in range(500):  # the tool call that names the `sleep` pid comes a little after the start
        for sid in (busy["id"], paused["id"]):
            events = (await call(server, "GET", "sessions", sid, "events"))["events"]
            pgids += [e["data"]["pid"] for e in events if e["kind"] == "process_start" and e["data"]["pid"] not in pgids]
            found = re.search(r"pid=(\d+)", json.dumps([e for e in events if e["kind"] == "tool_call"]))
            tool = tool or (int(found.group(1)) if found else None)
        if tool is not None:
            break
    processes = census.in_groups(set(pgids))
    assert tool in [p.pid for p in processes] and any(p.state == "T" for p in processes)
    return server, pgids, processes


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
async def test_no_agent_process_outlives_a_server_that_died(glue_server_process, glue_config, how):
    server, pgids, processes = await a_busy_server(glue_server_process, glue_config)
    try:
        await end_server(server, how)
        _, alive = psutil.wait_procs([psutil.Process(p.pid) for p in processes if psutil.pid_exists(p.pid)],
                                     timeout=WAIT)
        assert alive == []
        assert census.in_groups(set(pgids)) == []
    finally:  # never let a failure leave them behind
        for pgid in pgids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
