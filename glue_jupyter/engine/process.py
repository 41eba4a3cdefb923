"""An agent's OS process: its own process group, signals to the whole group, graceful stop.

The counterpart of jupyter_client's local provisioner. The agent runs as the leader of a new
process group so that pausing freezes, and stopping ends, every tool process it started too.
Exit is detected by waiting on the process, never by end of output: tool grandchildren may
keep the pipes open long after the agent died.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import deque

from .groups.watchdog import group_states as _group_states
from .groups.watchdog import members, proc_available

STDERR_TAIL_LINES = 40
STDERR_MAX_LINE = 2000
# Lines longer than this on stdout are not protocol messages we can afford to hold.
STDOUT_LINE_LIMIT = 16 * 1024 * 1024


def group_states(pgid: int) -> list[str]:
    """The kernel's one-letter state of every process in the group (Linux only; else [])."""
    return list(_group_states(pgid).values()) if proc_available() else []


def group_alive(pgid: int) -> bool:
    """True while any non-zombie process is left in the group.

    Zombies still count for killpg(pgid, 0), and in containers nobody may ever reap orphaned
    grandchildren, so on Linux we read /proc to ignore them.
    """
    if proc_available():
        return bool(members(pgid))
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class AgentProcess:
    def __init__(self, proc: asyncio.subprocess.Process, argv: list[str]):
        self.proc = proc
        self.argv = argv
        self.pid = proc.pid
        self.pgid = proc.pid  # leader of its own session / process group
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())
        self.frozen = False
        self.expected_exit = False  # set before we end it on purpose
        self.exit_signal: str | None = None

    @classmethod
    async def spawn(cls, argv: list[str], cwd: str, env: dict[str, str]) -> AgentProcess:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,
            limit=STDOUT_LINE_LIMIT,
        )
        return cls(proc, argv)

    @property
    def stdin(self) -> asyncio.StreamWriter:
        return self.proc.stdin

    @property
    def stdout(self) -> asyncio.StreamReader:
        return self.proc.stdout

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    async def _drain_stderr(self) -> None:
        # Always drained: an agent blocked on a full stderr pipe looks hung.
        reader = self.proc.stderr
        while True:
            try:
                line = await reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                continue
            except Exception:
                return
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\n")
            self.stderr_tail.append(text[:STDERR_MAX_LINE])

    async def wait(self) -> int:
        code = await self.proc.wait()
        if code < 0 and self.exit_signal is None:
            with contextlib.suppress(ValueError):
                self.exit_signal = signal.Signals(-code).name
        return code

    async def stderr_settled(self, timeout: float = 0.5) -> None:
        """Give the stderr drain a moment to read what a dying process wrote last."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._stderr_task), timeout)

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, sig)

    async def freeze(self, timeout: float = 1.0) -> None:
        """SIGSTOP the group and return once the kernel has stopped every member.

        Signal delivery is asynchronous: without the wait a "paused" agent could still write
        for a moment after pause returned.
        """
        self._signal_group(signal.SIGSTOP)
        self.frozen = True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(
            s not in ("T", "t", "Z", "X") for s in group_states(self.pgid)
        ):
            await asyncio.sleep(0.001)

    def thaw(self) -> None:
        self._signal_group(signal.SIGCONT)
        self.frozen = False

    async def terminate(self, grace: float) -> int:
        """Close stdin, SIGTERM the group, SIGKILL it after `grace` seconds, reap the leader.

        The SIGKILL goes to the group even when the leader already exited, so that tool
        processes which ignore SIGTERM do not outlive the session.
        """
        deadline = time.monotonic() + grace
        with contextlib.suppress(Exception):
            self.proc.stdin.close()
        self._signal_group(signal.SIGTERM)
        if self.frozen:  # a stopped process only acts on SIGTERM once continued
            self.thaw()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.wait(), timeout=grace)
        # The leader is gone (or out of time); wait out the grace period for the rest.
        while group_alive(self.pgid) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if group_alive(self.pgid) or self.proc.returncode is None:
            self._signal_group(signal.SIGKILL)
        code = await self.wait()
        await self.group_gone()
        self._stderr_task.cancel()
        return code

    async def group_gone(self, timeout: float = 2.0) -> None:
        """Return once no process is left in the group: a SIGKILL is delivered, not awaited, by
        the kernel, so a killed tool may live on for a moment after the signal was sent."""
        deadline = time.monotonic() + timeout
        while group_alive(self.pgid) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    def kill_now(self) -> None:
        """SIGKILL the whole group: what is left once the leader died, or at interpreter exit."""
        self._signal_group(signal.SIGKILL)
