"""An agent's file access (ACP fs/read_text_file, fs/write_text_file) never stalls the server.

A real server answers a loop of requests while the demo agent (`cat NAME` reads through the
client) reads hostile things in its folder: a FIFO no one writes to, a 300 MB file, /dev/zero
behind a symlink, a symlink out of the folder. None may hold a request up, and each read gets a
clear refusal; an ordinary file is still served.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from glue_jupyter.agents.files import AgentFiles, FileRefused

# Far more than a request takes even on a machine loaded 8-fold (0.6 s seen at worst), far less
# than the stalls this catches (a FIFO blocked the loop for good; a 300 MB read held it for seconds).
STALL_BOUND = 1.5


class LatencyWatch:
    """Requests one after another for as long as it runs; the slowest answer is the stall."""

    def __init__(self, glue_api):
        self.glue_api = glue_api
        self.worst = 0.0
        self.count = 0
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await self.glue_api.ok("GET", "info")
            self.worst = max(self.worst, time.perf_counter() - started)
            self.count += 1

    async def stop(self) -> None:
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task


@pytest.fixture
def hostile(jp_root_dir) -> Path:
    folder = jp_root_dir / "hostile"
    folder.mkdir()
    os.mkfifo(folder / "pipe")  # no writer, ever
    with open(folder / "huge.log", "wb") as f:
        f.truncate(300 * 1024 * 1024)  # sparse: 300 MB to read, nothing on disk
    (folder / "zero").symlink_to("/dev/zero")
    (folder / "passwd").symlink_to("/etc/passwd")
    (folder / "notes.txt").write_text("ordinary text\n" * 1000)
    return folder


async def read_through_agent(glue_api, sid: str, name: str) -> str:
    """What the demo agent said after asking the client for `name`."""
    before = (await glue_api.ok("GET", "sessions", sid))["last_seq"]
    await glue_api.control(sid, "prompt", text=f"cat {name}")
    end = await glue_api.wait_event(sid, lambda e: e["kind"] == "turn_end", after_seq=before)
    return "".join(e["data"]["text"] for e in await glue_api.events(sid, after_seq=before)
                   if e["kind"] == "agent_message_chunk" and e["turn"] == end["turn"])


async def test_hostile_reads_never_hold_a_request_up(glue_api, hostile):
    session = await glue_api.start(cwd=str(hostile))
    await glue_api.wait_for(session["id"], "idle")
    watch = LatencyWatch(glue_api)
    try:
        said = {name: await read_through_agent(glue_api, session["id"], name)
                for name in ("pipe", "huge.log", "zero", "passwd", "notes.txt")}
    finally:
        await watch.stop()
    assert "is not a regular file (a FIFO)" in said["pipe"]
    assert "too large for an agent: 314,572,800 bytes" in said["huge.log"]
    assert "(c.GlueApp.max_agent_file_size)" in said["huge.log"]
    assert "outside the session folder" in said["zero"]
    assert "outside the session folder" in said["passwd"]
    assert said["notes.txt"] == "Read 14000 characters of `notes.txt`."
    print(f"slowest of {watch.count} requests during the hostile reads: {watch.worst * 1000:.1f} ms")
    assert watch.count > 5 and watch.worst < STALL_BOUND, (watch.count, watch.worst)


# The rules themselves, on the same hostile folder --------------------------------------------


async def test_reads_are_confined_regular_and_bounded(hostile, tmp_path):
    files = AgentFiles(hostile, max_bytes=20_000)
    assert await files.read("notes.txt", line=2, limit=1) == "ordinary text\n"
    for name, why in (("pipe", "a FIFO"), ("huge.log", "too large"), ("zero", "outside"),
                      ("../hostile/../../etc/passwd", "outside"), (".", "a folder")):
        with pytest.raises(FileRefused, match=why):
            await files.read(name)
    (hostile / "latin1.txt").write_bytes(b"caf\xe9")
    with pytest.raises(FileRefused, match="not UTF-8 text"):
        await files.read("latin1.txt")
    with pytest.raises(FileNotFoundError):
        await files.read("missing.txt")


async def test_writes_are_confined_regular_and_bounded(hostile):
    files = AgentFiles(hostile, max_bytes=1000)
    written = await files.write("sub/new.txt", "hello\n")
    assert written == hostile / "sub" / "new.txt" and written.read_text() == "hello\n"
    await files.write("sub/new.txt", "shorter")
    assert written.read_text() == "shorter"
    for name, content, why in (("pipe", "x", "FIFO|No such device"), ("zero", "x", "outside"),
                               ("big.txt", "x" * 1001, "too large"), ("sub", "x", "Is a directory")):
        with pytest.raises(FileRefused, match=why):
            await files.write(name, content)
    assert not (hostile / "big.txt").exists()
