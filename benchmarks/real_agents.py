"""Real agents through glue, each against its loopback fake model: what a user waits for.

    .venv/bin/python benchmarks/real_agents.py [--rounds 3] [--agents claude,codex,codex-zed,gemini]

For Claude Code's adapter, both Codex adapters and Gemini CLI (installed as the test suite
installs them, tests/real_agents/install.py), through the engine, median of the rounds:

  start       start_session → idle (process, initialize, session/new, the start mode set)
  first chunk prompt → the first agent_message_chunk stored (the fake answers at once)
  interrupt   interrupt while a slow reply streams → the turn ended (cancelled)
  stop        stop → the agent's whole process group reaped
  resume      resume a stopped session → idle (native session/load; Gemini CLI cannot load within
              the UTC minute the session was made, so its resume is seeded then: the column says)

The reference, measured the same way in the same run, is the built-in demo agent (no model,
a Python process): the difference is the agent's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from real_agents.agents import REAL_AGENTS  # noqa: E402
from real_agents.install import install, program  # noqa: E402

from glue_jupyter.engine import EngineConfig, SessionManager  # noqa: E402
from glue_jupyter.engine.process import group_alive  # noqa: E402
from glue_jupyter.pytest_plugin import first_event  # noqa: E402

WAIT = 120.0


async def timed(coro) -> float:
    started = time.perf_counter()
    await coro
    return time.perf_counter() - started


async def one_round(name: str, agent: str, argv: list[str], env: dict, slow_prompt: str, hello: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "work").mkdir()
        manager = SessionManager(EngineConfig(
            db_path=folder / "sessions.db", data_dir=folder / "data", root_dir=folder / "work",
            agents={agent: {"argv": argv, "env": env}}, start_timeout=WAIT, interrupt_timeout=30.0,
            stop_grace_period=5.0))
        await manager.open()
        try:
            figures: dict = {}
            started = time.perf_counter()
            session = await manager.start_session(agent, str(folder / "work"))
            figures["start"] = time.perf_counter() - started
            sid = session["id"]
            assert session["state"] == "idle", session["error"]

            after = manager.get(sid)["last_seq"]
            started = time.perf_counter()
            await manager.prompt(sid, hello)
            await first_event(manager, sid, lambda e: e["kind"] == "agent_message_chunk", after, WAIT)
            figures["first chunk"] = time.perf_counter() - started
            await first_event(manager, sid, lambda e: e["kind"] == "turn_end", after, WAIT)

            after = manager.get(sid)["last_seq"]
            await manager.prompt(sid, slow_prompt)
            await first_event(manager, sid, lambda e: e["kind"] == "agent_message_chunk", after, WAIT)
            figures["interrupt"] = await timed(manager.interrupt(sid))

            pgid = next(e["data"]["pid"] for e in reversed(manager.events(sid)) if e["kind"] == "process_start")
            figures["stop"] = await timed(manager.stop(sid))
            assert not group_alive(pgid), f"{name}: a process of the group outlived stop"

            started = time.perf_counter()
            resumed = await manager.resume(sid)
            figures["resume"] = time.perf_counter() - started
            figures["via"] = resumed["resumed_via"]
            await manager.stop(sid)
            return figures
        finally:
            await manager.close()


def real_agent_setup(real, fake, home: Path, root: Path) -> tuple[list[str], dict]:
    env = real.prepare(home, fake, {}, "fake")
    return [str(program(real.key, root)), *real.args], env


async def measure_real(real, rounds: int, root: Path) -> list[dict]:
    results = []
    for _ in range(rounds):
        with real.fake() as fake, tempfile.TemporaryDirectory() as home:
            argv, env = real_agent_setup(real, fake, Path(home), root)
            results.append(await one_round(real.key, real.agent, argv, env, "[[slow]]", "Hello"))
    return results


async def measure_demo(rounds: int) -> list[dict]:
    results = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as state:
            argv = [sys.executable, "-m", "glue_jupyter.agents.demo", "--state-dir", state, "--pace", "0.12"]
            results.append(await one_round("demo", "demo", argv, {}, "take your time", "quick"))
    return results


COLUMNS = ("start", "first chunk", "interrupt", "stop", "resume")


def summary(results: list[dict]) -> str:
    cells = [f"{statistics.median(r[c] for r in results) * 1000:,.0f} ms" for c in COLUMNS]
    vias = sorted({r["via"] for r in results})
    return " | ".join(cells) + f" ({'/'.join(vias)})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--agents", default=",".join(r.key for r in REAL_AGENTS))
    args = parser.parse_args()
    wanted = args.agents.split(",")
    root = install()
    await measure_demo(1)  # warm-up: the first start in a process pays for importing ACP
    print(f"median of {args.rounds} rounds; agents from {root}\n")
    print("| agent | " + " | ".join(COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    print(f"| demo agent (reference) | {summary(await measure_demo(args.rounds))} |", flush=True)
    for real in REAL_AGENTS:
        if real.key in wanted:
            print(f"| {real.key} | {summary(await measure_real(real, args.rounds, root))} |", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
