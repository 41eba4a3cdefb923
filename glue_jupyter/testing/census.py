"""Which processes are alive, read from /proc (Linux): the ground truth a test checks the engine against."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    pid: int
    pgid: int
    state: str  # the kernel's one letter: R, S, T (stopped), Z (zombie)...
    cmdline: str

    @property
    def alive(self) -> bool:
        return self.state not in ("Z", "X")


def _read(pid: str) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return Proc(int(pid), int(fields[2]), fields[0], cmdline.strip())


def _environ_has(pid: int, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie is not)."""
    proc = _read(str(pid))
    return proc is not None and proc.alive


def marked(name: str, value: str) -> list[Proc]:
    """Every live process whose environment holds NAME=VALUE: an agent and all it started."""
    marker = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _environ_has(int(entry.name), marker):
            proc = _read(entry.name)
            if proc is not None and proc.alive:
                found.append(proc)
    return found


def in_groups(pgids: set[int]) -> list[Proc]:
    """Every live process in one of these process groups."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            proc = _read(entry.name)
            if proc is not None and proc.alive and proc.pgid in pgids:
                found.append(proc)
    return found
