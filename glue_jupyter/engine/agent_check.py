"""Can an agent work, before a session is started with it? Asked of the agent itself.

A check launches the agent the way a session would (same command, same scrubbed environment)
in an empty folder, sends ACP `initialize` and nothing else, and ends it. From the answer:
which version runs, what it can do (load, resume, list, fork, close sessions; what a prompt may
hold), which sign-in methods it offers and, for adapters that push it, who it is signed in as.
The registry's sign-in knowledge fills in the rest (variables set, the files a login leaves).

Checks are asynchronous (the event loop never waits on an agent), two at a time, and cached
until the program on disk or the agent's configuration changes, or CHECK_TTL has passed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import tempfile
import time

from ..agents.registry import AgentSpec, npm_package, scrubbed_environment
from .process import AgentProcess

CHECK_TTL = 300.0        # seconds a check is believed (sign-ins change outside glue)
CHECK_TIMEOUT = 30.0     # an agent that has not answered initialize by then "does not start"
AUTH_STATUS_WAIT = 3.0   # how long a pushed sign-in status is waited for after initialize
CONCURRENT_CHECKS = 2
RECHECK_AFTER = 5.0      # a refresh reuses a check younger than this (many tabs, one check)


class AgentChecks:
    def __init__(self, grace: float):
        self._grace = grace
        self._done: dict[str, tuple[str, float, dict]] = {}  # name -> (key, checked at, result)
        self._running: dict[str, tuple[str, asyncio.Task]] = {}
        self._slots = asyncio.Semaphore(CONCURRENT_CHECKS)

    async def close(self) -> None:
        """End the checks in flight (their agent processes are ended too)."""
        tasks = [task for _key, task in self._running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def cached(self, spec: AgentSpec, max_age: float = CHECK_TTL) -> dict | None:
        """The last check's result while it is still good, else None."""
        entry = self._done.get(spec.name)
        if entry is None:
            return None
        key, checked_at, result = entry
        if key != _key(spec) or time.time() - checked_at > max_age:
            return None
        return result

    async def check(self, spec: AgentSpec, refresh: bool = False) -> dict:
        """The result of checking `spec` (from the cache unless `refresh`); never raises."""
        if (found := self.cached(spec, RECHECK_AFTER if refresh else CHECK_TTL)) is not None:
            return found
        key = _key(spec)
        running = self._running.get(spec.name)
        if running is None or running[0] != key:
            task = asyncio.ensure_future(self._check(spec, key))
            self._running[spec.name] = (key, task)
            task.add_done_callback(lambda _t, name=spec.name: self._running.pop(name, None))
            running = (key, task)
        return await asyncio.shield(running[1])

    async def _check(self, spec: AgentSpec, key: str) -> dict:
        async with self._slots:
            started = time.monotonic()
            result = await _ask(spec, self._grace)
            result["check"]["ms"] = round((time.monotonic() - started) * 1000)
        self._done[spec.name] = (key, time.time(), result)
        return result


def _key(spec: AgentSpec) -> str:
    """What a check depends on: the launch command, the program on disk, the environment."""
    argv = spec.resolve_argv() or spec.argv
    program = argv[0] if os.path.isabs(argv[0]) else shutil.which(argv[0]) or argv[0]
    try:
        stamp = os.stat(os.path.realpath(program)).st_mtime_ns
    except OSError:
        stamp = 0
    text = json.dumps([argv, stamp, sorted(scrubbed_environment(spec.env).items())])
    return hashlib.sha256(text.encode()).hexdigest()


async def _ask(spec: AgentSpec, grace: float) -> dict:
    from ..agents.acp_driver import AcpDriver, MutedSink, error_text

    argv = spec.resolve_argv() or spec.argv
    env = scrubbed_environment(spec.env)
    package = npm_package(argv[0])
    result: dict = {"version": package["version"] if package else None, "signed_in": None,
                    "sign_in": {"detail": "not checked", "hint": spec.sign_in.hint(), "methods": []},
                    "capabilities": None,
                    "check": {"ok": False, "error": None, "checked_at": time.time()}}
    folder = tempfile.mkdtemp(prefix="glue-agent-check-")
    process = None
    try:
        try:
            process = await AgentProcess.spawn(argv, folder, env)
        except OSError as exc:
            result["check"]["error"] = f"could not launch {argv[0]}: {exc.strerror or exc}"
            return result
        process.expected_exit = True
        sink = MutedSink()
        driver = sink.driver = AcpDriver(process.stdout, process.stdin, folder, sink=sink)
        try:
            await asyncio.wait_for(driver.initialize(), CHECK_TIMEOUT)
            pushed = await driver.wait_auth_status(AUTH_STATUS_WAIT)
        except Exception as exc:
            if isinstance(exc, asyncio.TimeoutError):
                why = f"no answer to ACP initialize within {CHECK_TIMEOUT:g} s"
            elif process.returncode is not None or isinstance(exc, ConnectionError):
                await process.stderr_settled()
                tail = [line for line in process.stderr_tail if line.strip()][-3:]
                why = f"it exited at start ({'; '.join(tail) or 'no message'})"
            else:
                why = error_text(exc)
            result["check"]["error"] = why
            return result
        finally:
            await driver.close()
        info = driver.agent_info or {}
        result["version"] = info.get("version") or result["version"]
        result["capabilities"] = driver.summary()
        status = spec.sign_in.status(pushed, driver.auth_methods, env)
        result["signed_in"] = status["signed_in"]
        result["sign_in"] = {"detail": status["detail"], "hint": spec.sign_in.hint(),
                             "methods": [{"id": m.get("id"), "name": m.get("name")} for m in driver.auth_methods]}
        result["check"]["ok"] = True
        return result
    finally:
        if process is not None:
            await process.terminate(grace)
        shutil.rmtree(folder, ignore_errors=True)
