"""Engine benchmark: our lifecycle on the demo agent against Jupyter's own kernel machinery.

    .venv/bin/python benchmarks/engine.py [--rounds 5]

Prints, for the demo agent: start-to-idle, interrupt (request → turn ended; against the kernel's
first interrupt and its later ones), stop (request →
process group reaped; session/close first, and, for comparison, an agent that does not offer it), native and seeded resume, events persisted per second with 10 live
subscribers, and how fast a 10,000-turn transcript opens. In the same run it measures the
reference, jupyter_client's AsyncKernelManager with ipykernel (start until ready, interrupt of a
cell in time.sleep, graceful shutdown), and prints each ratio against its target.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from glue_jupyter.engine import EngineConfig, SessionManager
from glue_jupyter.engine.events import EventLog
from glue_jupyter.engine.store import Store


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def wait_state(manager, sid, *states, timeout=30):
    return await manager.wait_for(sid, lambda s: s["state"] in states, timeout)


async def wait_kind(manager, sid, kind, after_seq=0):
    sub = manager.subscribe(sid, after_seq)
    try:
        async for batch in sub:
            for event in batch:
                if event["kind"] == kind:
                    return event
    finally:
        sub.close()


async def measure_engine(rounds: int, tmp: Path) -> dict:
    demo = [sys.executable, "-m", "glue_jupyter.agents.demo", "--state-dir", str(tmp / "demo")]
    config = EngineConfig(db_path=tmp / "bench.db", data_dir=tmp, root_dir=tmp, max_active_sessions=50,
                          agents={"demo": {"argv": demo}, "demo-noload": {"argv": [*demo, "--no-load"]},
                                  "demo-noclose": {"argv": [*demo, "--no-close"]}})
    manager = SessionManager(config)
    await manager.open()
    import glue_jupyter.agents.acp_driver  # noqa: F401  (warm, as in a running server)

    starts, interrupts, stops, signals_only, native, seeded = [], [], [], [], [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        session = await manager.start_session("demo", str(tmp))
        starts.append(time.perf_counter() - t0)
        sid = session["id"]

        await manager.prompt(sid, "explain the project")
        await wait_kind(manager, sid, "agent_thought_chunk")
        t0 = time.perf_counter()
        await manager.interrupt(sid)  # returns once the turn has ended
        interrupts.append(time.perf_counter() - t0)

        await manager.prompt(sid, "sleep")
        await wait_kind(manager, sid, "tool_call")
        t0 = time.perf_counter()
        await manager.stop(sid)  # returns once the group is reaped
        stops.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await manager.resume(sid)
        native.append(time.perf_counter() - t0)
        await manager.stop(sid)

        # The same stop of an agent that does not offer session/close: the signals alone.
        plain = await manager.start_session("demo-noclose", str(tmp), prompt="sleep")
        await wait_kind(manager, plain["id"], "tool_call")
        t0 = time.perf_counter()
        await manager.stop(plain["id"])
        signals_only.append(time.perf_counter() - t0)

        other = await manager.start_session("demo-noload", str(tmp), prompt="quick")
        await wait_state(manager, other["id"], "idle")
        await manager.stop(other["id"])
        t0 = time.perf_counter()
        await manager.resume(other["id"])
        seeded.append(time.perf_counter() - t0)
        await manager.stop(other["id"])
    await manager.close()
    return {"start": median_ms(starts), "interrupt": median_ms(interrupts), "stop": median_ms(stops),
            "stop_signals_only": median_ms(signals_only),
            "native": median_ms(native), "seeded": median_ms(seeded)}


async def measure_event_rate(tmp: Path, total: int = 200_000, subscribers: int = 10) -> float:
    """Events/s stored and delivered to 10 live subscribers (tool updates: not coalesced)."""
    store = Store(tmp / "rate.db")
    store.insert_session({"id": "s", "title": "", "agent": "demo", "cwd": "/", "state": "running",
                          "created_at": 0, "updated_at": 0, "paused_since": None, "last_seq": 0,
                          "exit_code": None, "resumed_via": None, "agent_session_id": None, "turns": 1,
                          "error": None})
    log = EventLog(store, "s", 0)
    subs = [log.subscribe(0) for _ in range(subscribers)]

    async def consume(sub):
        seen = 0
        async for batch in sub:
            seen += len(batch)
            if seen >= total:
                return

    consumers = [asyncio.ensure_future(consume(s)) for s in subs]
    t0 = time.perf_counter()
    per_read = 200  # about what one 64 KiB pipe read holds of small updates
    for i in range(0, total, per_read):
        for j in range(per_read):
            log.append("tool_call_update", {"tool_call_id": f"t{i}", "status": "in_progress", "n": j}, 1)
        await asyncio.sleep(0)  # the next read from the agent's pipe
    await asyncio.gather(*consumers)
    elapsed = time.perf_counter() - t0
    store.close()
    return total / elapsed


def measure_open(tmp: Path, turns: int = 10_000) -> tuple[int, float, float]:
    """Open a 10,000-turn transcript: (events, full read ms, first-page ms)."""
    store = Store(tmp / "open.db")
    store.insert_session({"id": "big", "title": "", "agent": "demo", "cwd": "/", "state": "stopped",
                          "created_at": 0, "updated_at": 0, "paused_since": None, "last_seq": 0,
                          "exit_code": None, "resumed_via": None, "agent_session_id": None, "turns": turns,
                          "error": None})
    log = EventLog(store, "big", 0)
    for turn in range(1, turns + 1):
        log.append("turn_start", {"turn": turn}, turn)
        log.append("user_message", {"text": f"question {turn}"}, turn)
        for k in range(20):  # a reply streamed in 20 wire chunks
            log.append("agent_message_chunk", {"text": f"word{k} "}, turn)
            log.flush()  # paced chunks arrive one per loop iteration: no coalescing
        log.append("turn_end", {"turn": turn, "stop_reason": "end_turn", "files": []}, turn)
        log.flush()
    count = store.max_seq("big")
    t0 = time.perf_counter()
    events = store.events("big")
    full = time.perf_counter() - t0
    assert len(events) == count
    t0 = time.perf_counter()
    store.events("big", after_seq=0, limit=2000)
    first = time.perf_counter() - t0
    store.close()
    return count, full * 1000, first * 1000


async def measure_kernel(rounds: int) -> dict:
    from jupyter_client.manager import AsyncKernelManager

    starts, cold, warm, shutdowns = [], [], [], []
    for _ in range(rounds):
        km = AsyncKernelManager(kernel_name="python3")
        t0 = time.perf_counter()
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        starts.append(time.perf_counter() - t0)

        # The first interrupt in a kernel's life pays for importing the traceback machinery;
        # later ones do not. Both are real: we report the cold and the warm figure.
        for samples in (cold, warm):
            msg_id = kc.execute("import time; print('sleeping', flush=True); time.sleep(30)")
            while True:  # wait until the cell is really in time.sleep (execute_input comes too early)
                msg = await kc.get_iopub_msg(timeout=30)
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                    break
            t0 = time.perf_counter()
            await km.interrupt_kernel()
            while True:
                reply = await kc.get_shell_msg(timeout=30)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            samples.append(time.perf_counter() - t0)

        kc.stop_channels()
        t0 = time.perf_counter()
        await km.shutdown_kernel(now=False)
        shutdowns.append(time.perf_counter() - t0)
    return {"start": median_ms(starts), "interrupt": median_ms(cold), "interrupt_warm": median_ms(warm),
            "stop": median_ms(shutdowns)}


def row(name: str, ours: float, ref: float | None, target: float | None, unit: str = "ms") -> str:
    line = f"  {name:<34}{ours:>10.1f} {unit}"
    if ref is not None:
        ratio = ours / ref
        line += f"   kernel {ref:>8.1f} {unit}   ratio {ratio:5.3f}"
        if target is not None:
            line += f"   target <= {target:g}  {'OK' if ratio <= target else 'MISSED'}"
    return line


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ours = await measure_engine(args.rounds, tmp)
        kernel = await measure_kernel(args.rounds)
        rate = await measure_event_rate(tmp)
        count, full_ms, first_ms = measure_open(tmp)
    print(f"glue_jupyter engine benchmark (median of {args.rounds}; reference: ipykernel via AsyncKernelManager)")
    print(row("start to idle", ours["start"], kernel["start"], 0.5))
    print(row("interrupt vs kernel's first", ours["interrupt"], kernel["interrupt"], 0.1))
    print(row("interrupt vs kernel's later ones", ours["interrupt"], kernel["interrupt_warm"], 0.1))
    print(row("stop (request -> group reaped)", ours["stop"], kernel["stop"], 0.25))
    print(row("  same, no session/close offered", ours["stop_signals_only"], None, None))
    print(row("native resume (stopped -> idle)", ours["native"], None, None))
    print(row("seeded resume (stopped -> idle)", ours["seeded"], None, None))
    print(f"  {'events persisted, 10 subscribers':<34}{rate:>10.0f} /s   target >= 50000  "
          f"{'OK' if rate >= 50_000 else 'MISSED'}")
    print(f"  {'open a 10,000-turn transcript':<34}{full_ms:>10.1f} ms   ({count} events; first page "
          f"{first_ms:.1f} ms)")


if __name__ == "__main__":
    asyncio.run(main())
