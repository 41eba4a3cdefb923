"""The watchdog, and what it knows about process groups on Linux.

Run by path, stdlib only, so that it starts in a few milliseconds and holds no more than a bare
interpreter: ``python -I -S watchdog.py GRACE``. The server keeps a pipe to its stdin and writes
``+PGID START MARKER`` when an agent starts and ``-PGID`` once that group ended. When the pipe
closes, the server is gone, however it went (the kernel closes a SIGKILLed process's pipes
too): the watchdog ends every group still registered that is still ours, and exits. It lives in
a session of its own, so a Ctrl-C or a hang-up aimed at the server's terminal does not reach it.

The functions below also serve the engine's sweep at open (keeper.py).
"""

from __future__ import annotations

import os
import signal
import sys
import time

POLL = 0.02  # seconds between looks at what is left of the groups being ended


def proc_available() -> bool:
    return os.path.exists("/proc/self/stat")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state letter, pgid, start time in clock ticks after boot) of a process, None if gone."""
    try:
        stat = _read(f"/proc/{pid}/stat").decode(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[0], int(fields[2]), int(fields[19])


def start_ticks(pid: int) -> int | None:
    stat = _stat(pid)
    return stat[2] if stat else None


def boot_id() -> str:
    try:
        return _read("/proc/sys/kernel/random/boot_id").decode().strip()
    except OSError:
        return ""


def group_states(pgid: int) -> dict[int, str]:
    """pid -> the kernel's state letter of every process in group `pgid`, zombies included.

    An empty group is known at once (killpg with signal 0); only a group with members costs a
    pass over /proc."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return {}
    except PermissionError:
        pass
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = _stat(int(name))
            if stat and stat[1] == pgid:
                found[int(name)] = stat[0]
    return found


def members(pgid: int) -> list[int]:
    """The live (not zombie) processes in group `pgid`."""
    return [pid for pid, state in group_states(pgid).items() if state not in ("Z", "X")]


def _carries(pid: int, marker: bytes) -> bool:
    try:
        return marker in _read(f"/proc/{pid}/environ").split(b"\0")
    except OSError:
        return False


def is_ours(pgid: int, start: int, marker: str, variable: str) -> bool:
    """Whether the live group `pgid` is the one we started.

    Proof is its leader being the very process we started (same pid, same start time) or any
    member carrying the launch's marker. While a group has a member, no other group can take
    its id, so one proof covers every member.
    """
    if not proc_available():
        return False
    leader = _stat(pgid)
    if leader and leader[1] == pgid and leader[2] == start and leader[0] not in ("Z", "X"):
        return True
    token = f"{variable}={marker}".encode()
    return any(_carries(pid, token) for pid in members(pgid))


def _signal(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def end_groups(pgids: list[int], grace: float) -> int:
    """SIGTERM each group (continuing a frozen one), SIGKILL what is left after `grace` seconds.
    Returns how many processes were alive in them at the start."""
    if not pgids:
        return 0
    count = sum(len(members(pgid)) for pgid in pgids) if proc_available() else 0
    for pgid in pgids:
        _signal(pgid, signal.SIGTERM)
        _signal(pgid, signal.SIGCONT)  # a paused (SIGSTOPped) group acts on SIGTERM only once continued
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (not proc_available() or any(members(p) for p in pgids)):
        time.sleep(POLL)
    for pgid in pgids:
        _signal(pgid, signal.SIGKILL)
    return count


def main(argv: list[str]) -> None:
    grace = float(argv[1]) if len(argv) > 1 else 5.0
    variable = argv[2] if len(argv) > 2 else "GLUE_JUPYTER_GROUP"
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    groups: dict[int, tuple[int, str]] = {}
    for line in sys.stdin.buffer:
        parts = line.decode(errors="replace").split()
        try:
            if parts and parts[0].startswith("+") and len(parts) == 3:
                groups[int(parts[0][1:])] = (int(parts[1]), parts[2])
            elif parts and parts[0].startswith("-"):
                groups.pop(int(parts[0][1:]), None)
        except ValueError:
            continue
    # The server is gone.
    ours = [pgid for pgid, (start, marker) in groups.items()
            if is_ours(pgid, start, marker, variable) or not proc_available()]
    end_groups(ours, grace)


if __name__ == "__main__":
    main(sys.argv)
