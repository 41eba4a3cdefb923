"""GroupKeeper: every agent process group recorded, the watchdog kept told, leftovers swept at open."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import uuid
from collections import Counter
from pathlib import Path

from ..store import Store
from .watchdog import boot_id, end_groups, is_ours, members, start_ticks

MARKER_VARIABLE = "GLUE_JUPYTER_GROUP"  # in each agent's environment, inherited by its tools
WATCHDOG = Path(__file__).with_name("watchdog.py")


class GroupKeeper:
    def __init__(self, store: Store, grace: float):
        self.store = store
        self.grace = grace
        self._boot = boot_id()
        self._me = (os.getpid(), start_ticks(os.getpid()) or 0)
        self._tracked: dict[int, dict] = {}  # pgid -> its row
        self._watchdog: asyncio.subprocess.Process | None = None
        self._restarting: asyncio.Task | None = None

    # at open and close ----------------------------------------------------------------

    async def open(self) -> Counter:
        """End what a previous run left behind, then start the watchdog.

        Returns the number of processes ended, by session id.
        """
        rows = self.store.groups()
        leftovers = [row for row in rows if not self._owner_alive(row)]
        ended = await asyncio.to_thread(self._end_ours, leftovers)  # waits up to the grace period
        for row in leftovers:
            self.store.remove_group(row["pgid"], row["start_ticks"])
        await self._start_watchdog()
        return ended

    def _owner_alive(self, row: dict) -> bool:
        """Recorded by a program still running (this one, or another server on the same database)."""
        if row["boot_id"] != self._boot:
            return False
        return (row["owner_pid"], row["owner_start_ticks"]) == self._me or \
            start_ticks(row["owner_pid"]) == row["owner_start_ticks"]

    def _end_ours(self, rows: list[dict]) -> Counter:
        ours = [row for row in rows if row["boot_id"] == self._boot
                and is_ours(row["pgid"], row["start_ticks"], row["marker"], MARKER_VARIABLE)]
        ended = Counter({row["session_id"]: len(members(row["pgid"])) for row in ours})
        end_groups([row["pgid"] for row in ours], self.grace)
        return ended

    async def close(self) -> None:
        """Let the watchdog go: with nothing left registered, it exits at once."""
        watchdog, self._watchdog = self._watchdog, None
        if self._restarting is not None:
            self._restarting.cancel()
        if watchdog is None:
            return
        with contextlib.suppress(Exception):
            watchdog.stdin.close()
        try:
            await asyncio.wait_for(watchdog.wait(), self.grace + 5)
        except asyncio.TimeoutError:
            watchdog.kill()
            await watchdog.wait()

    # the watchdog ---------------------------------------------------------------------

    async def _start_watchdog(self) -> None:
        self._watchdog = await asyncio.create_subprocess_exec(
            sys.executable, "-I", "-S", str(WATCHDOG), str(self.grace), MARKER_VARIABLE,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL, start_new_session=True, cwd="/",
        )
        for row in self._tracked.values():
            self._tell(_register(row))

    def _tell(self, line: str) -> None:
        watchdog = self._watchdog
        if watchdog is None:
            return
        if watchdog.returncode is None and not watchdog.stdin.is_closing():
            with contextlib.suppress(ConnectionError, RuntimeError):
                watchdog.stdin.write(line.encode())
                return
        # Someone ended our watchdog: start another and tell it everything again.
        if self._restarting is None or self._restarting.done():
            self._restarting = asyncio.ensure_future(self._start_watchdog())

    # per agent ------------------------------------------------------------------------

    def marker(self) -> dict[str, str]:
        """The environment variable that marks a new agent's group as ours."""
        return {MARKER_VARIABLE: uuid.uuid4().hex}

    def track(self, session_id: str, pgid: int, env: dict[str, str], argv: list[str]) -> None:
        """Record a just-started agent (the leader of group `pgid`), in the database and with the watchdog."""
        start = start_ticks(pgid)
        if start is None or MARKER_VARIABLE not in env:
            return  # gone already, or no /proc to prove anything by later
        row = {"pgid": pgid, "start_ticks": start, "boot_id": self._boot, "marker": env[MARKER_VARIABLE],
               "session_id": session_id, "argv": json.dumps(argv), "owner_pid": self._me[0],
               "owner_start_ticks": self._me[1]}
        self.store.add_group(row)
        self._tracked[pgid] = row
        self._tell(_register(row))

    def untrack(self, pgid: int) -> None:
        """The group ended: forget it."""
        row = self._tracked.pop(pgid, None)
        if row is not None:
            self.store.remove_group(pgid, row["start_ticks"])
            self._tell(f"-{pgid}\n")


def _register(row: dict) -> str:
    return f"+{row['pgid']} {row['start_ticks']} {row['marker']}\n"


class Untracked:
    """For a session without a keeper (tools, tests): tracks nothing."""

    def marker(self) -> dict[str, str]:
        return {}

    def track(self, session_id: str, pgid: int, env: dict[str, str], argv: list[str]) -> None:
        pass

    def untrack(self, pgid: int) -> None:
        pass


UNTRACKED = Untracked()
