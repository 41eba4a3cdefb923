"""An engine in a child process, for tests that kill it with SIGKILL (no shutdown of any kind)
and then open its database again, as the next server would."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from ..engine import EngineConfig

_MAIN = """
import asyncio, json, re, sys
from pathlib import Path
from glue_jupyter.engine import SessionManager
from glue_jupyter.testing.child_engine import config

{scene}

async def main(folder):
    manager = SessionManager(config(folder))
    await manager.open()
    print(json.dumps(await scene(manager, folder)), flush=True)
    await asyncio.Event().wait()  # until killed

asyncio.run(main(Path(sys.argv[1])))
"""


def config(folder: Path) -> EngineConfig:
    """The child's configuration, all of it under `folder`; the same for whoever opens it next."""
    demo = [sys.executable, "-m", "glue_jupyter.agents.demo", "--pace", "0.02",
            "--state-dir", str(folder / "demo-state")]
    return EngineConfig(db_path=folder / "sessions.db", data_dir=folder / "data", root_dir=folder,
                        agents={"demo": {"argv": demo}}, stop_grace_period=2.0)


def run(folder: Path, scene: str) -> tuple[subprocess.Popen, dict]:
    """Start an engine on `folder` in a child process and play `scene` in it: the source of
    ``async def scene(manager, folder) -> dict``. Returns the process, still running, and what
    the scene returned."""
    script = _MAIN.format(scene=textwrap.dedent(scene))
    child = subprocess.Popen([sys.executable, "-c", script, str(folder)], stdout=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, text=True)
    line = child.stdout.readline()
    if not line:
        child.kill()
        child.wait()
        raise AssertionError(f"the engine did not start (exit {child.returncode})")
    return child, json.loads(line)
