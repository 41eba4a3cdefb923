"""The files an agent reads and writes through ACP (`fs/read_text_file`, `fs/write_text_file`).

Three rules, whatever the agent asks:
- confined to the session folder: the path is resolved (every symlink followed) first, and
  refused when it lands outside;
- regular files only: a FIFO, a device, a socket is refused without being waited on (opened
  non-blocking, checked with fstat on the very file descriptor that is read);
- bounded: at most `max_bytes` are read or written (EngineConfig.max_agent_file_size).
All of it runs in a worker thread, so a slow disk or a huge file never stalls the server's loop.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

# O_NONBLOCK: opening a FIFO with no peer would wait forever. O_NOFOLLOW: a symlink swapped in
# after `confined` looked is refused rather than followed.
OPEN_FLAGS = os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
READ_CHUNK = 1 << 20


class FileRefused(Exception):
    """What the agent is told, as is (an ACP error's details)."""


class AgentFiles:
    def __init__(self, folder: Path, max_bytes: int, knob: str = "max_agent_file_size"):
        self.folder = Path(folder).resolve()
        self.max_bytes = max_bytes
        self._knob = knob

    async def read(self, path: str, line: int | None = None, limit: int | None = None) -> str:
        """The text of `path` (from line `line`, at most `limit` lines). FileNotFoundError when
        it does not exist; FileRefused for everything these rules refuse."""
        return await asyncio.to_thread(self._read, path, line, limit)

    async def write(self, path: str, content: str) -> Path:
        """Write `content` to `path` (creating its folders); the path written."""
        return await asyncio.to_thread(self._write, path, content)

    # in the worker thread ---------------------------------------------------------------

    def confined(self, path: str) -> Path:
        target = (self.folder / path).resolve()
        if target != self.folder and self.folder not in target.parents:
            raise FileRefused(f"{path} is outside the session folder {self.folder}")
        return target

    def _too_big(self, what: str, size: int) -> FileRefused:
        return FileRefused(f"{what} is too large for an agent: {size:,} bytes; the limit is "
                           f"{self.max_bytes:,} ({self._knob})")

    def _open_regular(self, target: Path, flags: int, doing: str, done: str) -> int:
        """A descriptor of `target`, which is a regular file, or FileRefused (or FileNotFoundError)."""
        try:
            fd = os.open(target, flags | OPEN_FLAGS, 0o666)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise FileRefused(f"cannot {doing} {target}: {exc.strerror or exc}") from exc
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise FileRefused(f"{target} is not a regular file ({_kind(mode)}): not {done}")
        return fd

    def _read(self, path: str, line: int | None, limit: int | None) -> str:
        target = self.confined(path)
        fd = self._open_regular(target, os.O_RDONLY, "read", "read")
        try:
            size = os.fstat(fd).st_size
            if size > self.max_bytes:
                raise self._too_big(str(target), size)
            data = _read_at_most(fd, self.max_bytes + 1)  # a file that grows (or lies about its size) stops here
        finally:
            os.close(fd)
        if len(data) > self.max_bytes:
            raise self._too_big(str(target), len(data))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileRefused(f"{target} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        if line is not None or limit is not None:
            lines = text.splitlines(keepends=True)
            start = max((line or 1) - 1, 0)
            text = "".join(lines[start: start + limit if limit else None])
        return text

    def _write(self, path: str, content: str) -> Path:
        target = self.confined(path)
        data = content.encode("utf-8", "replace")
        if len(data) > self.max_bytes:
            raise self._too_big("The content", len(data))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = self._open_regular(target, os.O_WRONLY | os.O_CREAT, "write", "written")
        try:
            os.ftruncate(fd, 0)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        return target


def _read_at_most(fd: int, size: int) -> bytes:
    parts, left = [], size
    while left > 0:
        part = os.read(fd, min(left, READ_CHUNK))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a regular file"
