"""Each real agent as a user drives it from a terminal and from notebook cells: `jupyter glue` against a real Jupyter
server with glue_jupyter, the agent offline against its fake model."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest
from client_fixtures import call, glue_client, glue_env, glue_ref  # noqa: F401 - fixtures

from fake_models.server import FILE_CONTENT
from test_magics import Notebook
from glue_jupyter.client.stream import wait_for_event, wait_for_session, wait_for_state
from glue_jupyter.magics import NotebookMemory
from glue_jupyter.pytest_plugin import REPO_ROOT

from .install import program


@pytest.fixture
def glue_config(glue_config, real, fake, real_agents_installed, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = real.prepare(home, fake, {}, "fake")
    argv = [str(program(real.key, real_agents_installed)), *real.args]
    return {**glue_config, "agents": {**glue_config["agents"], real.agent: {"argv": argv, "env": env}},
            "start_timeout": 60.0}


async def glue(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "glue_jupyter.cli", *args, env={**os.environ, "PYTHONPATH": REPO_ROOT},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode(), err.decode()


async def test_a_real_agent_from_the_command_line(real, fake, glue_env, glue_client, jp_root_dir):
    code, out, err = await glue("agents")
    line = next(row for row in out.splitlines() if row.startswith(real.agent + " "))
    assert code == 0 and " ready " in line, out

    code, out, err = await glue("start", "--agent", real.agent, "--cwd", str(jp_root_dir), "[[write from-cli.txt]]")
    assert code == 0, err
    sid = out.split()[1]
    await call(wait_for_session, glue_client, sid, lambda s: s["pending_permissions"] == 1, 60)
    assert not (jp_root_dir / "from-cli.txt").exists()
    code, out, err = await glue("allow", sid)
    assert code == 0, err
    end = await call(wait_for_event, glue_client, sid, "turn_end", 0, 60)
    events = await call(glue_client.events, sid)
    assert end["data"]["files"] == ["from-cli.txt"], "\n".join(f"{e['kind']} {str(e['data'])[:300]}" for e in events)
    assert (jp_root_dir / "from-cli.txt").read_text() == FILE_CONTENT

    code, out, err = await glue("show", sid)
    assert code == 0 and "from-cli.txt" in out and f"Hello from the fake {fake.vendor}" not in out

    code, out, err = await glue("--json", "stop", sid)
    assert code == 0 and json.loads(out)["state"] == "stopped", err
    code, out, err = await glue("--json", "resume", sid, "Which file did you write?")
    assert code == 0, err
    await call(wait_for_state, glue_client, sid, "idle", 60)
    request = fake.first_request_with("Which file did you write?", main=True)
    assert request is not None and "from-cli.txt" in request.raw  # the conversation carried on


async def test_a_real_agent_from_a_notebook(real, fake, glue_client, jp_root_dir, tmp_path):
    """The same story from notebook cells: `%glue start`, the request answered with `%glue allow`,
    `%glue stop`, `%%glue` resuming the stopped session with the conversation carried on."""
    nb = Notebook(glue_client, memory=NotebookMemory(str(tmp_path / "nb.json")))
    r = await nb.run("%glue agents")
    assert r.ok and real.agent in r.text and "ready" in r.text, r.text

    r = await nb.run(f"%glue start --agent {real.agent} --cwd {jp_root_dir} [[write from-notebook.txt]]")
    assert r.ok and "glue: started" in r.stdout, r.text
    sid = nb.magics.current
    await call(wait_for_session, glue_client, sid, lambda s: s["pending_permissions"] == 1, 60)
    assert not (jp_root_dir / "from-notebook.txt").exists()  # nothing written before the user allowed it
    r = await nb.run("%glue allow")
    assert r.ok and "allowed" in r.stdout, r.text
    await call(wait_for_event, glue_client, sid, "turn_end", 0, 60)
    assert (jp_root_dir / "from-notebook.txt").read_text() == FILE_CONTENT

    r = await nb.run("%glue stop")
    assert r.ok and "stopped" in r.stdout, r.text
    r = await nb.run("%%glue\nWhich file did you write from the notebook?")
    assert r.ok and f"sent to {sid[:8]}" in r.stdout, r.text
    await call(wait_for_state, glue_client, sid, "idle", 60)
    request = fake.first_request_with("Which file did you write from the notebook?", main=True)
    assert request is not None and "from-notebook.txt" in request.raw  # the conversation carried on
