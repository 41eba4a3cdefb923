"""Soak: a long randomised storm of controls against real demo agents, then a census of the OS.

    .venv/bin/python benchmarks/storm.py [--rounds 300] [--storms 3] [--seed 0]

Each storm fires random rounds of controls (start, prompt, interrupt, pause, resume, stop,
forget; most of a round at one session and at once, the rest a few ms apart) at up to four
sessions, at a limit of 1 and then of 2 active sessions. It prints, per storm: controls fired
and refused, the most sessions ever active against the limit (as a watcher saw every change),
agent processes alive against sessions in live states, processes left outside any live session
(after the storm and again after the manager closed), and every other broken invariant of
glue_jupyter.testing.storm. The reference is the exact accounting itself: leaked 0, active <=
limit, alive = live. Exit status 1 when any storm broke one.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from glue_jupyter.engine import SessionManager
from glue_jupyter.engine.states import LIVE
from glue_jupyter.testing import census
from glue_jupyter.testing.storm import MARKER, Storm, demo_config, random_rounds


async def one_storm(seed: int, rounds: int, limit: int) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        marker, config = demo_config(Path(folder), max_active_sessions=limit)
        manager = SessionManager(config)
        await manager.open()
        storm = Storm(manager, "demo", marker, folder)
        t0 = time.perf_counter()
        plan = [[(0, "start", 0, 0), (1, "start", 1, 0)], *random_rounds(random.Random(seed), rounds)]
        try:
            await storm.run(plan)
            await storm.settle()
            elapsed = time.perf_counter() - t0
            found = storm.violations()
            live = sum(s.state in LIVE for s in manager.sessions.values())
            alive = storm.agents_alive()
            leaked = sum(p.pgid not in {s.process.pgid for s in manager.sessions.values() if s.process}
                         for p in census.marked(MARKER, marker))
        finally:
            storm.close()
            await manager.close()
        after_close = len(census.marked(MARKER, marker))
        if after_close:
            found.append(f"{after_close} processes outlived the manager's close")
    tally = storm.tally
    print(f"  seed {seed:<4} limit {limit}  {tally.controls:>5} controls ({tally.refused} refused) "
          f"in {elapsed:6.1f} s  max active {tally.max_active}/{limit}  agents alive {alive} = live {live}  "
          f"leaked {leaked}, after close {after_close}  {'OK' if not found else 'BROKEN'}")
    for problem in found:
        print(f"      {problem[:400]}")
    return not found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--storms", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"Control storms ({args.rounds} rounds each) against real demo agents; reference: leaked 0, "
          "max active <= limit, agents alive = sessions live")
    ok = True
    for limit in (1, 2):
        for seed in range(args.seed, args.seed + args.storms):
            ok &= await one_storm(seed, args.rounds, limit)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    asyncio.run(main())
