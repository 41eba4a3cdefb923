"""A storm of random controls against real demo-agent sessions, and the invariants it keeps.

A storm is a list of rounds; the controls of one round are fired concurrently, each a few
milliseconds after the round began (as clicks from several browsers arrive: one lands while
another is still spawning its agent, initializing it or ending it), and a round ends when all
its controls returned. Afterwards, the OS and the engine must agree:

- every agent process alive (and every process it started) belongs to a session in a live
  state, and every such session has its agent alive: nothing leaked, nothing lost;
- `info()["active"]` equals the sessions in active states, and at no moment, as seen by a
  watcher of every change, were more sessions active than `max_active_sessions`;
- no session is left in a transitional state (starting, interrupting, stopping);
- every session's events are numbered 1..last_seq without a gap.

Agents are told apart from every other process on the machine by a marker in their
environment, which the processes they start inherit.
"""

from __future__ import annotations

import asyncio
import random
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..engine import EngineConfig, GlueError, SessionManager
from ..engine.states import ACTIVE, LIVE, State
from . import census

CONTROLS = ("start", "prompt", "interrupt", "pause", "resume", "stop", "forget")
# Drawn more often: the lifecycle controls, which race with each other the most.
WEIGHTED_CONTROLS = CONTROLS + ("resume", "resume", "resume", "stop", "stop")
# What a prompt asks of the demo agent: a short turn, a normal one, a tool child process,
# a crash in the middle of the turn, a turn that ignores cancel (interrupt escalates).
PROMPTS = ("quick", "explain the project", "sleep", "crash", "stubborn")
TRANSITIONAL = {State.STARTING.value, State.INTERRUPTING.value, State.STOPPING.value}
MARKER = "GLUE_STORM"

MAX_DELAY_MS = 30
Control = tuple[int, str, int, int]  # (which session, which control, which prompt, delay in ms)


def storm_agent(argv: list[str], env: dict | None = None) -> tuple[str, dict]:
    """An agents-table entry whose processes carry a marker of their own: (marker, entry)."""
    marker = uuid.uuid4().hex
    return marker, {"argv": argv, "env": {**(env or {}), MARKER: marker}}


def demo_config(folder: Path, **overrides) -> tuple[str, EngineConfig]:
    """(marker, config) for storms on the demo agent at test speed, all state under `folder`."""
    argv = [sys.executable, "-m", "glue_jupyter.agents.demo", "--pace", "0.02",
            "--state-dir", str(folder / "demo-state")]
    marker, entry = storm_agent(argv)
    overrides = {"stop_grace_period": 2.0, "interrupt_timeout": 1.0, **overrides}
    config = EngineConfig(db_path=folder / "sessions.db", data_dir=folder / "data", root_dir=folder,
                          agents={"demo": entry}, **overrides)
    return marker, config


async def run_storm(folder: Path, rounds: list[list[Control]], **overrides) -> tuple[list[str], Tally]:
    """Fire `rounds` at demo sessions on a fresh manager; return every invariant broken (checked
    after the storm settled, and again after the manager closed) and the tally."""
    marker, config = demo_config(folder, **overrides)
    manager = SessionManager(config)
    await manager.open()
    storm = Storm(manager, "demo", marker, str(folder))
    try:
        await storm.run(rounds)
        await storm.settle()
        found = storm.violations()
    finally:
        storm.close()
        await manager.close()
    left = census.marked(MARKER, marker)
    if left:
        found.append(f"{len(left)} processes outlived the manager's close: {left}")
    return found, storm.tally


def random_rounds(rng: random.Random, count: int, width: int = 5, sessions: int = 3) -> list[list[Control]]:
    """Rounds of up to `width` controls, most of them at one session (a burst of clicks on it),
    most of them at once (each arriving while the one before is at its first wait) and the
    rest a few milliseconds apart."""
    rounds = []
    for _ in range(count):
        focus = rng.randrange(sessions)
        rounds.append([
            (focus if rng.random() < 0.8 else rng.randrange(sessions), rng.choice(WEIGHTED_CONTROLS),
             rng.randrange(len(PROMPTS)), 0 if rng.random() < 0.7 else rng.randrange(MAX_DELAY_MS))
            for _ in range(rng.randint(1, width))
        ])
    return rounds


@dataclass
class Tally:
    controls: int = 0
    refused: int = 0
    max_active: int = 0
    by_control: dict[str, int] = field(default_factory=dict)


class Storm:
    def __init__(self, manager, agent: str, marker: str, cwd: str, max_sessions: int = 4):
        self.manager = manager
        self.agent = agent
        self.marker = marker
        self.cwd = cwd
        self.max_sessions = max_sessions
        self.ids: list[str] = []
        self.tally = Tally()
        self.errors: list[str] = []
        self._watch = manager.watch()
        self._states: dict[str, str] = {s["id"]: s["state"] for s in manager.list_sessions()}
        self._watching = asyncio.ensure_future(self._follow())

    async def _follow(self) -> None:
        """Count the active sessions after every change, exactly as they happened."""
        limit = self.manager.config.max_active_sessions
        async for message in self._watch:
            if message["type"] == "forgotten":
                self._states.pop(message["id"], None)
                continue
            self._states[message["session"]["id"]] = message["session"]["state"]
            active = sum(state in {s.value for s in ACTIVE} for state in self._states.values())
            self.tally.max_active = max(self.tally.max_active, active)
            if active > limit:
                self.errors.append(f"{active} sessions active with a limit of {limit}: {self._states}")

    async def run(self, rounds: list[list[Control]]) -> None:
        for round_ in rounds:
            await asyncio.gather(*(self._fire(*control) for control in round_))

    async def _fire(self, index: int, control: str, prompt: int, delay_ms: int = 0) -> None:
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)  # when this click arrives, not a wait for anything
        self.tally.controls += 1
        self.tally.by_control[control] = self.tally.by_control.get(control, 0) + 1
        text = PROMPTS[prompt]
        manager = self.manager
        try:
            if control == "start" or not self.ids:
                if len(self.ids) >= self.max_sessions:
                    return
                session = await manager.start_session(self.agent, self.cwd, prompt=text if prompt % 2 else None)
                self.ids.append(session["id"])
                return
            sid = self.ids[index % len(self.ids)]
            if control == "prompt":
                await manager.prompt(sid, text)
            elif control == "resume":
                await manager.resume(sid, prompt=text if prompt % 2 else None)
            elif control == "forget":
                await manager.forget(sid)
                self.ids.remove(sid)
            else:
                await getattr(manager, control)(sid)
        except GlueError:
            self.tally.refused += 1
        except Exception as exc:  # anything else is a bug: a stack trace instead of a clear refusal
            self.errors.append(f"{control}: {type(exc).__name__}: {exc}")

    async def settle(self, timeout: float = 30) -> None:
        """Let what is already decided finish: an agent that died is seen to have died."""
        for session in list(self.manager.sessions.values()):
            process = session.process
            if session.state in LIVE and (process is None or not census.alive(process.pid)):
                await self.manager.wait_for(
                    session.id, lambda s: s["state"] not in {x.value for x in LIVE}, timeout)
        # The watcher has seen every change made so far once it drained its queue.
        while self._watch._queue:
            await asyncio.sleep(0)

    def violations(self) -> list[str]:
        """What is wrong now: empty when the OS and the engine agree."""
        found = list(self.errors)
        sessions = list(self.manager.sessions.values())
        live_groups = {s.process.pgid: s for s in sessions if s.state in LIVE and s.process is not None}
        alive = census.marked(MARKER, self.marker)
        leaked = [p for p in alive if p.pgid not in live_groups]
        if leaked:
            found.append(f"{len(leaked)} processes alive outside any live session: {leaked}")
        agents_alive = {p.pgid for p in alive if p.pid == p.pgid}
        for session in sessions:
            if session.state in LIVE and (session.process is None or session.process.pgid not in agents_alive):
                found.append(f"session {session.id} is {session.state} but has no agent alive")
        stuck = [(s.id, s.row["state"]) for s in sessions if s.row["state"] in TRANSITIONAL]
        if stuck:
            found.append(f"sessions stuck in a transitional state: {stuck}")
        active = sum(s.state in ACTIVE for s in sessions)
        if self.manager.info()["active"] != active:
            found.append(f"info says {self.manager.info()['active']} active, {active} sessions are")
        for session in sessions:
            seqs = [e["seq"] for e in self.manager.events(session.id)]
            if seqs != list(range(1, session.row["last_seq"] + 1)):
                found.append(f"session {session.id}: events are not 1..{session.row['last_seq']}")
        return found

    def close(self) -> None:
        self._watch.close()
        self._watching.cancel()

    def agents_alive(self) -> int:
        return sum(p.pid == p.pgid for p in census.marked(MARKER, self.marker))
