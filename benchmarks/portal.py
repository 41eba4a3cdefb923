"""The hub portal's listing across 150 servers, on a real JupyterHub.

Two real single-user servers (alice's and bob's, glue_jupyter on the demo agent) and 148 light
stand-ins: one small tornado process on loopback that answers the glue routes (info and
sessions, 8 sessions each) for any /user/NAME/SERVER/ path, registered with the hub by a spawner
that points stand-in users' servers at it. Of the stand-ins, some can be made slow (they answer
after 10 s, beyond the portal's 2 s deadline) and some down (their process is stopped).

Measured, as carol (a glue admin, so the listing covers all 150 servers), median of 5 rounds:
- the portal's `GET /services/glue/api/sessions`, every server answering;
- the same with 10 slow and 10 down servers;
- alice's own listing (her one real server).

References, same run:
- the hub's own `GET /hub/api/users?include_stopped_servers=1` for the same admin (the portal
  asks it first, so the listing can never be faster);
- asking the same 150 servers for their sessions one after the other (what a loop over the
  servers does), at the addresses the portal uses, with the same 2 s deadline per server;
- one real server's `api/glue/sessions` asked directly.

Run: .venv/bin/python benchmarks/portal.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "hub"))

STANDIN_USERS = 37
SERVERS_PER_STANDIN = 4  # default + 3 named: 148 stand-in servers, with 2 real ones 150
SESSIONS_PER_STANDIN = 8
SLOW, DOWN = 10, 10  # stand-in servers made slow, and down
SLOW_SECONDS = 10.0
DEADLINE = 2.0  # the portal's default server_timeout

# -- the stand-ins --------------------------------------------------------------------------


def standin_sessions(user: str, server: str) -> list[dict]:
    now = time.time()
    states = ["idle", "running", "paused", "stopped", "stopped", "idle", "failed", "stopped"]
    return [{
        "id": f"{user}-{server}-{i:02d}".ljust(32, "0")[:32], "title": f"Session {i} of {user}/{server}",
        "agent": "demo", "cwd": f"/home/{user}/project-{i}", "state": states[i % len(states)],
        "created_at": now - 3600 * i, "updated_at": now - 60 * i, "paused_since": None, "last_seq": 40 * i,
        "exit_code": None, "resumed_via": None, "agent_session_id": None,
        "pending_permissions": 1 if i == 1 else 0, "turns": i, "error": None,
    } for i in range(SESSIONS_PER_STANDIN)]


def run_standins(port: int, slow_file: str) -> None:
    """A stand-in for every /user/NAME[/SERVER]/ path: the glue routes, and 200 elsewhere.
    Servers listed in `slow_file` answer the glue routes after SLOW_SECONDS."""
    from tornado import web

    class Glue(web.RequestHandler):
        async def get(self, user: str, server: str | None, route: str) -> None:
            try:
                slow = set(json.loads(Path(slow_file).read_text()))
            except (OSError, ValueError):
                slow = set()
            if f"{user}/{server or ''}" in slow:
                await asyncio.sleep(SLOW_SECONDS)
            if route == "info":
                body = {"version": "stand-in", "active": 2, "limit": 4}
            else:
                body = {"sessions": standin_sessions(user, server or "")}
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(body))

    class Anything(web.RequestHandler):
        def get(self, *args) -> None:
            self.finish("stand-in")

    async def main() -> None:
        app = web.Application([
            (r"/user/([^/]+)/(?:([^/]+)/)?api/glue/(info|sessions)", Glue),
            (r"/.*", Anything),
        ])
        app.listen(port, "127.0.0.1")
        await asyncio.Event().wait()

    asyncio.run(main())


# The hub's spawner: real servers for real users, stand-in addresses for stand-in users.
BENCH_SPAWNER = '''
from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Bool

STANDIN_PORTS = {ports!r}
DOWN = set({down!r})  # "user/server" of the stand-ins served by the process that will go down


class BenchSpawner(SimpleLocalProcessSpawner):
    standin = Bool(False)

    def _is_standin(self):
        return self.user.name.startswith("standin")

    async def start(self):
        if not self._is_standin():
            return await super().start()
        self.standin = True
        down = f"{{self.user.name}}/{{self.name}}" in DOWN
        return ("127.0.0.1", STANDIN_PORTS["down" if down else "up"])

    async def poll(self):
        return None if self.standin else await super().poll()

    async def stop(self, now=False):
        if not self.standin:
            await super().stop(now)

    def get_state(self):
        return {{**super().get_state(), "standin": self.standin}}

    def load_state(self, state):
        super().load_state(state)
        self.standin = state.get("standin", False)

    def clear_state(self):
        super().clear_state()
        self.standin = False


c.JupyterHub.spawner_class = BenchSpawner
c.JupyterHub.named_server_limit_per_user = 0
c.Spawner.http_timeout = 60
'''


# -- measuring ------------------------------------------------------------------------------


def timed(call, rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def sequential_fanout(urls: list[str], token: str) -> int:
    """Ask each server in turn, as a plain loop would; returns how many answered."""
    import httpx

    answered = 0
    # No connection kept between servers: they are different hosts (here, one stand-in port).
    with httpx.Client(timeout=DEADLINE, headers={"Authorization": f"token {token}"},
                      limits=httpx.Limits(max_keepalive_connections=0)) as client:
        for url in urls:
            try:
                client.get(url + "api/glue/sessions", params={"no_track_activity": 1})
                answered += 1
            except httpx.HTTPError:
                pass
    return answered


def free_port() -> int:
    from glue_jupyter.pytest_plugin import free_port as port

    return port()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--standin", nargs=2, metavar=("PORT", "SLOW_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.standin:
        return run_standins(int(args.standin[0]), args.standin[1])

    from hub_fixtures import end_hub, find_proxy, launch_hub

    if find_proxy() is None:
        sys.exit("configurable-http-proxy is missing: run ./dev test once (it installs it)")
    home = Path(tempfile.mkdtemp(prefix="glue-portal-bench-"))
    slow_file = home / "slow.json"
    slow_file.write_text("[]")
    ports = {"up": free_port(), "down": free_port()}

    def standins(port: int) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, __file__, "--standin", str(port), str(slow_file)],
                                start_new_session=True)

    names = [f"standin-{i:02d}" for i in range(STANDIN_USERS)]
    servers = [(name, "" if k == 0 else f"s{k}") for name in names for k in range(SERVERS_PER_STANDIN)]
    going_down = [f"{user}/{server}" for user, server in servers[:DOWN]]
    slow = [f"{user}/{server}" for user, server in servers[DOWN:DOWN + SLOW]]
    up, down = standins(ports["up"]), standins(ports["down"])
    hub = launch_hub(home / "hub", portal_args=(),
                     extra_config=BENCH_SPAWNER.format(ports=ports, down=going_down))
    try:
        print(f"hub at {hub.url}, stand-ins on ports {ports['up']} (answering) and {ports['down']} (to go down)")
        hub.start_servers(("alice", ""), ("bob", ""))
        tokens = {user: hub.token_for(user) for user in ("alice", "bob", "carol")}
        for user in ("alice", "bob"):
            for prompt in ("quick", None):
                hub.glue("POST", user, "sessions", tokens[user], {"agent": "demo", **({"prompt": prompt} if prompt else {})},
                         expect=201)

        for name in names:
            hub.api("POST", f"users/{name}", expect=(201, 409))
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda server: hub.start_server(*server), servers))
        print(f"{len(servers)} stand-in servers registered in {time.perf_counter() - started:.1f} s")

        timings: list[dict[str, float]] = []

        def portal_list(token: str) -> dict:
            response = hub.http.get(f"{hub.url}services/glue/api/sessions",
                                    headers={"Authorization": f"token {token}"})
            response.raise_for_status()
            timings.append({part.split(";dur=")[0].strip(): float(part.split(";dur=")[1])
                            for part in response.headers["Server-Timing"].split(",")})
            return response.json()

        def steps() -> str:
            """The portal's own account of the last rounds (Server-Timing), medians."""
            last = timings[-rounds:]
            return ", ".join(f"{step} {statistics.median(t[step] for t in last):,.0f} ms" for step in last[0])

        def hub_users() -> list:
            return hub.api("GET", "users", tokens["carol"], include_stopped_servers=1)

        listing = portal_list(tokens["carol"])
        total = len([s for s in listing["servers"] if s["state"] == "running"])
        assert total == 150, f"{total} running servers listed"
        # Where each server listens, as the portal finds it: the proxy's routing table.
        routes = {spec: route["target"] for spec, route in hub.api("GET", "proxy").items()}
        direct_urls = [routes[s["url"]] + s["url"] for s in listing["servers"] if s["state"] == "running"]

        rounds = args.rounds
        healthy, result = timed(lambda: portal_list(tokens["carol"]), rounds)
        healthy_steps = steps()
        answering = sum(1 for s in result["servers"] if s["state"] == "running" and not s["stale"])
        sessions = sum(len(s["sessions"]) for s in result["servers"])
        hub_ref, _ = timed(hub_users, rounds)
        sequential_healthy, _ = timed(lambda: sequential_fanout(direct_urls, tokens["carol"]), 1)

        # Now SLOW of them slow, and DOWN down.
        slow_file.write_text(json.dumps(slow))
        os.kill(down.pid, signal.SIGKILL)
        down.wait()
        degraded, result = timed(lambda: portal_list(tokens["carol"]), rounds)
        degraded_steps = steps()
        states = {}
        for s in result["servers"]:
            states[s["state"]] = states.get(s["state"], 0) + 1
        sequential_degraded, _ = timed(lambda: sequential_fanout(direct_urls, tokens["carol"]), 1)

        one_server, _ = timed(lambda: hub.glue("GET", "alice", "sessions", tokens["alice"]), rounds)
        alice_list, alices = timed(lambda: portal_list(tokens["alice"]), rounds)

        print()
        print(f"portal listing as a glue admin, median of {rounds} "
              f"({len(result['servers'])} rows: {sessions} sessions when all answer)")
        print("| | portal | hub's own users API | asking each server in turn |")
        print("|---|---|---|---|")
        print(f"| 150 servers, all answering ({answering} fresh) | {healthy * 1000:,.0f} ms | "
              f"{hub_ref * 1000:,.0f} ms | {sequential_healthy * 1000:,.0f} ms |")
        print(f"| 150 servers, {SLOW} slow ({SLOW_SECONDS:g} s) and {DOWN} down "
              f"(states: {states}) | {degraded * 1000:,.0f} ms | | {sequential_degraded * 1000:,.0f} ms |")
        print(f"| alice's own listing (1 real server, {sum(len(s['sessions']) for s in alices['servers'])} "
              f"sessions) | {alice_list * 1000:,.0f} ms | | one server asked directly: "
              f"{one_server * 1000:,.0f} ms |")
        print(f"inside the portal (Server-Timing; hub = its users and routing table): all answering: {healthy_steps}; degraded: {degraded_steps}")
        print(f"deadline per server: {DEADLINE:g} s; the degraded listing stays within "
              f"{degraded / DEADLINE:.2f}× the deadline; asking in turn took "
              f"{sequential_degraded / max(degraded, 1e-9):.1f}× longer")
    finally:
        end_hub(hub)
        for process in (up, down):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait()


if __name__ == "__main__":
    main()
