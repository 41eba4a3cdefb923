"""Server benchmark: glue_jupyter through its real HTTP API and WebSockets, against Jupyter's own
kernel interrupt in the same run.

    .venv/bin/python benchmarks/server.py [--rounds 10] [--turns 20]

Starts its own `jupyter server` on 127.0.0.1 (glue_jupyter enabled, demo agent) and prints:
- interrupt and stop latency over HTTP (request until the reply, which comes once the turn has
  ended / the process group is gone; a follower watches the session meanwhile, as a user's view
  does), next to the engine's own figure (an embedded SessionManager, same agent, no HTTP), and
  the floor of one HTTP request on the same server (Jupyter's routes and a refused glue control);
- fan-out: one session streaming to 1, 10 and 50 WebSocket clients (spread over worker
  processes so the clients are not the bottleneck): events/s delivered, and the p50/p99 delay
  from each event's `ts` (stamped by the engine when the agent output arrived) to receipt;
- the reference: `POST api/kernels/{id}/interrupt` on an ipykernel busy in `time.sleep`, until
  the kernel's execute_reply arrives on its channels WebSocket;
and the ratios against the targets (interrupt <= 1/10 of the kernel's; p99 < 20 ms at 50).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from glue_jupyter.pytest_plugin import demo_argv, end_server, launch_server  # noqa: E402

CLIENT_COUNTS = (1, 10, 50)
CLIENTS_PER_WORKER = 10


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Api:
    """Keep-alive HTTP, as a browser or a requests.Session talks to the server."""

    def __init__(self, server):
        self.server = server
        self.http = httpx.AsyncClient(headers=server.headers, timeout=120)

    async def __call__(self, method: str, *path: str, body=None) -> dict | None:
        response = await self.http.request(method, self.server.api(*path),
                                           content=json.dumps(body) if body is not None else b"")
        response.raise_for_status()
        return response.json() if response.content else None

    async def wait_event(self, sid: str, after_seq: int, predicate) -> dict:
        """Wait on the session's own stream (no polling) for an event after `after_seq`."""
        if isinstance(predicate, str):
            kind = predicate
            predicate = lambda e: e["kind"] == kind  # noqa: E731
        url = self.server.api("api/glue/sessions", sid, "stream", after_seq=after_seq)
        ws = await websocket_connect(HTTPRequest(url.replace("http", "ws", 1), headers=self.server.headers))
        try:
            while (raw := await ws.read_message()) is not None:
                for event in json.loads(raw).get("events", []):
                    if predicate(event):
                        return event
            raise RuntimeError(f"stream closed: {ws.close_code} {ws.close_reason}")
        finally:
            ws.close()

    async def wait_state(self, sid: str, state: str) -> None:
        session = await self("GET", "api/glue/sessions", sid)
        if session["state"] != state:
            await self.wait_event(sid, session["last_seq"],
                                  lambda e: e["kind"] == "state" and e["data"]["state"] == state)


class Follower:
    """A session's event stream kept open, as a user's view is while they click a control (the
    kernel reference keeps its channels socket open the same way)."""

    def __init__(self, ws):
        self.ws = ws
        self.events: list[dict] = []

    @classmethod
    async def open(cls, api: Api, sid: str) -> "Follower":
        url = api.server.api("api/glue/sessions", sid, "stream", after_seq=0).replace("http", "ws", 1)
        return cls(await websocket_connect(HTTPRequest(url, headers=api.server.headers)))

    async def until(self, after_seq: int, kind: str) -> dict:
        while True:
            for event in self.events:
                if event["seq"] > after_seq and event["kind"] == kind:
                    return event
            raw = await self.ws.read_message()
            if raw is None:
                raise RuntimeError(f"stream closed: {self.ws.close_code} {self.ws.close_reason}")
            self.events.extend(json.loads(raw).get("events", []))

    def close(self) -> None:
        self.ws.close()


# -- control latency ---------------------------------------------------------------------------


async def http_controls(api: Api, rounds: int) -> dict:
    """Interrupt a turn in full swing (its `sleep` tool running), and stop a running session,
    each while a follower watches the session."""
    interrupts, stops = [], []
    sid = (await api("POST", "api/glue/sessions", body={"agent": "demo"}))["id"]
    await api.wait_state(sid, "idle")
    follower = await Follower.open(api, sid)
    for _ in range(rounds):
        session = await api("POST", "api/glue/sessions", sid, "prompt", body={"text": "sleep"})
        await follower.until(session["last_seq"], "tool_call")
        t0 = time.perf_counter()
        reply = await api("POST", "api/glue/sessions", sid, "interrupt")
        interrupts.append(time.perf_counter() - t0)
        assert reply["state"] == "idle", reply
    follower.close()
    for _ in range(rounds):
        s = await api("POST", "api/glue/sessions", body={"agent": "demo", "prompt": "sleep"})
        follower = await Follower.open(api, s["id"])
        await follower.until(0, "tool_call")
        t0 = time.perf_counter()
        reply = await api("POST", "api/glue/sessions", s["id"], "stop")
        stops.append(time.perf_counter() - t0)
        follower.close()
        assert reply["state"] == "stopped", reply
    await api("POST", "api/glue/sessions", sid, "stop")
    return {"interrupt": statistics.median(interrupts), "stop": statistics.median(stops)}


async def http_floor(api: Api, samples: int = 200) -> dict:
    """What one request costs on this server, kept-alive, with nothing to wait for: Jupyter's
    own routes next to a glue control the engine refuses at once (an idle session's interrupt,
    409): the part of an HTTP control that is HTTP."""
    sid = (await api("POST", "api/glue/sessions", body={"agent": "demo"}))["id"]
    await api.wait_state(sid, "idle")
    requests = {
        "GET api/kernels": ("GET", "api/kernels", None),
        "POST to no route (404)": ("POST", "api/glue-nothing", b"{}"),
        "glue interrupt, refused (409)": ("POST", f"api/glue/sessions/{sid}/interrupt", b"{}"),
    }
    floor = {}
    for name, (method, path, body) in requests.items():
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            await api.http.request(method, api.server.api(path), content=body)
            times.append(time.perf_counter() - t0)
        floor[name] = statistics.median(times)
    await api("POST", "api/glue/sessions", sid, "stop")
    return floor


async def engine_controls(tmp: Path, rounds: int) -> dict:
    """The same, on an embedded SessionManager: no HTTP, no Jupyter."""
    from glue_jupyter.engine import EngineConfig, SessionManager

    config = EngineConfig(db_path=tmp / "engine.db", data_dir=tmp, root_dir=tmp, max_active_sessions=50,
                          agents={"demo": {"argv": demo_argv(tmp / "demo-agent", pace=0.005)}})
    manager = SessionManager(config)
    await manager.open()

    async def tool_started(sid: str, after_seq: int) -> None:
        sub = manager.subscribe(sid, after_seq)
        try:
            async for batch in sub:
                if any(e["kind"] == "tool_call" for e in batch):
                    return
        finally:
            sub.close()

    interrupts, stops = [], []
    try:
        sid = (await manager.start_session("demo", str(tmp)))["id"]
        for _ in range(rounds):
            session = await manager.prompt(sid, "sleep")
            await tool_started(sid, session["last_seq"])
            t0 = time.perf_counter()
            await manager.interrupt(sid)
            interrupts.append(time.perf_counter() - t0)
        for _ in range(rounds):
            s = await manager.start_session("demo", str(tmp), prompt="sleep")
            await tool_started(s["id"], 0)
            t0 = time.perf_counter()
            await manager.stop(s["id"])
            stops.append(time.perf_counter() - t0)
    finally:
        await manager.close()
    return {"interrupt": statistics.median(interrupts), "stop": statistics.median(stops)}


async def kernel_interrupts(api: Api, rounds: int) -> float:
    """Jupyter's own: interrupt an ipykernel in time.sleep, until its execute_reply arrives."""
    kernel = await api("POST", "api/kernels", body={"name": "python3"})
    url = api.server.api("api/kernels", kernel["id"], "channels").replace("http", "ws", 1)
    ws = await websocket_connect(HTTPRequest(url, headers=api.server.headers))

    def request(code: str) -> tuple[str, str]:
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "username": "bench", "session": "bench", "msg_type": "execute_request",
                  "version": "5.3", "date": ""}
        message = {"header": header, "parent_header": {}, "metadata": {}, "channel": "shell",
                   "content": {"code": code, "silent": False, "store_history": False,
                               "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}
        return msg_id, json.dumps(message)

    async def until(predicate) -> dict:
        while True:
            message = json.loads(await ws.read_message())
            if predicate(message):
                return message

    try:
        msg_id, text = request("1")  # the kernel is up and answering before we time anything
        await ws.write_message(text)
        await until(lambda m: m["msg_type"] == "execute_reply" and m["parent_header"].get("msg_id") == msg_id)
        samples = []
        for _ in range(rounds):
            msg_id, text = request("import time; print('sleeping', flush=True); time.sleep(60)")
            await ws.write_message(text)
            # "busy" comes before the cell runs; a SIGINT then lands outside time.sleep and
            # flatters the kernel. The printed line says the cell is really in the sleep.
            await until(lambda m: m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == msg_id)
            t0 = time.perf_counter()
            await api("POST", "api/kernels", kernel["id"], "interrupt")
            await until(lambda m: m["msg_type"] == "execute_reply" and m["parent_header"].get("msg_id") == msg_id)
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples)
    finally:
        ws.close()
        await api("DELETE", "api/kernels", kernel["id"])


# -- fan-out ------------------------------------------------------------------------------------


async def worker(url: str, token: str, clients: int, turns: int) -> None:
    """One process holding `clients` sockets on the session; reports delays as JSON on stdout."""
    sockets = [await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
               for _ in range(clients)]

    async def read(ws) -> tuple[list[float], int]:
        delays, count, ends = [], 0, 0
        live = False
        while ends < turns:
            raw = await ws.read_message()
            received = time.time()
            if raw is None:
                raise RuntimeError(f"closed: {ws.close_code} {ws.close_reason}")
            message = json.loads(raw)
            if message["type"] == "live":
                live = True
                print("live", flush=True) if ws is sockets[0] else None
                continue
            for event in message["events"]:
                if live:
                    delays.append(received - event["ts"])
                    count += 1
                    ends += event["kind"] == "turn_end"
        return delays, count

    results = await asyncio.gather(*(read(ws) for ws in sockets))
    delays = [d for r, _ in results for d in r]
    print(json.dumps({"delays": delays, "events": sum(c for _, c in results)}), flush=True)


async def fan_out(api: Api, clients: int, turns: int, prompt: str) -> dict:
    sid = (await api("POST", "api/glue/sessions", body={"agent": "demo"}))["id"]
    await api.wait_state(sid, "idle")
    last = (await api("GET", "api/glue/sessions", sid))["last_seq"]
    url = api.server.api("api/glue/sessions", sid, "stream", after_seq=last).replace("http", "ws", 1)
    workers = []
    for start in range(0, clients, CLIENTS_PER_WORKER):
        n = min(CLIENTS_PER_WORKER, clients - start)
        workers.append(await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--worker", url, api.server.token, str(n), str(turns),
            stdout=asyncio.subprocess.PIPE, limit=1 << 26))
    for proc in workers:  # every client is subscribed and live before the first prompt
        assert (await proc.stdout.readline()).strip() == b"live"
    t0 = time.perf_counter()
    for _ in range(turns):
        await api("POST", "api/glue/sessions", sid, "prompt", body={"text": prompt})
        await api.wait_state(sid, "idle")
    outputs = [json.loads(await proc.stdout.readline()) for proc in workers]
    elapsed = time.perf_counter() - t0
    for proc in workers:
        await proc.wait()
    await api("POST", "api/glue/sessions", sid, "stop")
    delays = [d for out in outputs for d in out["delays"]]
    return {"clients": clients, "events_per_s": sum(o["events"] for o in outputs) / elapsed,
            "p50_ms": ms(percentile(delays, 0.50)), "p99_ms": ms(percentile(delays, 0.99)),
            "events": len(delays)}


# -- main ---------------------------------------------------------------------------------------


async def main(rounds: int, turns: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="glue-bench-"))
    glue = {"db_path": str(tmp / "server.db"), "data_dir": str(tmp),
            "max_active_sessions": 50, "agents": {"demo": {"argv": demo_argv(tmp / "demo-agent", pace=0.005)}}}
    server = await launch_server(tmp / "server", glue, extra_args=("--ServerApp.log_level=WARN",))
    api = Api(server)
    try:
        progress("controls over HTTP…")
        http = await http_controls(api, rounds)
        floor = await http_floor(api)
        progress("controls in the engine…")
        engine = await engine_controls(tmp / "engine", rounds)
        progress("kernel interrupt…")
        kernel = await kernel_interrupts(api, rounds)
        fans, floods = [], []
        for n in CLIENT_COUNTS:
            progress(f"fan-out to {n}…")
            fans.append(await fan_out(api, n, turns, "hello"))
            floods.append(await fan_out(api, n, 2, "flood"))
    finally:
        await api.http.aclose()
        await end_server(server)

    print(f"\ncontrol latency (median of {rounds})      HTTP        engine      HTTP overhead")
    for control in ("interrupt", "stop"):
        print(f"  {control:<10}                     {ms(http[control]):>7} ms  {ms(engine[control]):>7} ms"
              f"  {ms(http[control] - engine[control]):>7} ms")
    print(f"  kernel interrupt (reference)     {ms(kernel):>7} ms")
    print("  one request with nothing to wait for (median of 200):")
    for name, seconds in floor.items():
        print(f"    {name:<30} {ms(seconds):>7} ms")
    ratio = http["interrupt"] / kernel
    print(f"  ratio glue/kernel interrupt      {ratio:.3f}  (target <= 0.100: {'met' if ratio <= 0.1 else 'MISSED'})")
    for label, rows in ((f"fan-out, default turns x{turns} (pace 0.005 s)", fans), ("fan-out, flood x2", floods)):
        print(f"\n{label}\n  clients   events/s delivered   p50 delay   p99 delay")
        for row in rows:
            print(f"  {row['clients']:>7}   {row['events_per_s']:>18,.0f}   {row['p50_ms']:>6} ms   {row['p99_ms']:>6} ms")
    p99 = fans[-1]["p99_ms"]
    print(f"\n  p99 at {CLIENT_COUNTS[-1]} clients (steady turns): {p99} ms (target < 20 ms: {'met' if p99 < 20 else 'MISSED'})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        url, token, clients, turns = sys.argv[2:6]
        asyncio.run(worker(url, token, int(clients), int(turns)))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.turns))
