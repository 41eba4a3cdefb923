"""JSON-RPC 2.0 over newline-delimited JSON on stdin/stdout, stdlib only.

The demo agent must start fast, so this deliberately does not use the ``acp`` package
(importing it and pydantic costs about half a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
import sys
import threading
from typing import Any, Callable

# JSON-RPC error codes
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
RESOURCE_NOT_FOUND = -32002  # ACP's "resource not found"


class RpcError(Exception):
    """An error answered to the peer as a JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class ClientGone(Exception):
    """stdout is closed: nobody is listening any more."""


def log(text: str) -> None:
    """Diagnostics go to stderr only: stdout belongs to the protocol."""
    try:
        sys.stderr.write(f"demo agent: {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class _PipeOutput:
    """stdout as an asyncio pipe: writes never block the event loop, drain gives backpressure."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    @classmethod
    async def open(cls) -> "_PipeOutput | _BlockingOutput":
        loop = asyncio.get_running_loop()
        try:
            mode = os.fstat(sys.stdout.fileno()).st_mode
        except (AttributeError, OSError, ValueError):
            return _BlockingOutput()
        if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
            # A terminal or a file: an asyncio pipe would make it non-blocking for everyone
            # sharing it (the shell, our stderr), so write plainly instead.
            return _BlockingOutput()
        try:
            transport, protocol = await loop.connect_write_pipe(
                asyncio.streams.FlowControlMixin, os.fdopen(os.dup(sys.stdout.fileno()), "wb")
            )
        except (ValueError, OSError):
            return _BlockingOutput()
        # High-water mark 0: drain() waits until everything reached the pipe, so what we
        # call "written" really left the process (matters before a simulated crash).
        transport.set_write_buffer_limits(high=0)
        return cls(asyncio.StreamWriter(transport, protocol, None, loop))

    def write(self, data: bytes) -> None:
        if self._writer.is_closing():
            raise ClientGone()
        self._writer.write(data)

    async def drain(self) -> None:
        try:
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            raise ClientGone() from exc


class _BlockingOutput:
    """stdout as a terminal or a file."""

    def write(self, data: bytes) -> None:
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except (BrokenPipeError, ValueError, OSError) as exc:
            raise ClientGone() from exc

    async def drain(self) -> None:
        pass


async def open_output() -> "_PipeOutput | _BlockingOutput":
    return await _PipeOutput.open()


def start_stdin_reader(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
    """Read stdin lines in a thread (works for pipes, files and ttys alike); None marks EOF."""

    def read_lines() -> None:
        try:
            for line in iter(sys.stdin.buffer.readline, b""):
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError):   # stdin unreadable: same as EOF
            pass
        except RuntimeError:            # the loop is closed: we are exiting anyway
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read_lines, name="demo-agent-stdin", daemon=True).start()


RequestHandler = Callable[[str, Any], Any]  # async (method, params) -> result
NotificationHandler = Callable[[str, Any], None]


class Wire:
    """One JSON-RPC peer: dispatches incoming messages, sends ours, matches responses."""

    def __init__(self, output: "_PipeOutput | _BlockingOutput") -> None:
        self._output = output
        self._incoming: asyncio.Queue = asyncio.Queue()
        self._pending: dict[int, asyncio.Future] = {}
        self._next_id = 0
        self.gone = asyncio.Event()  # set once stdout is closed under us

    # -- sending ---------------------------------------------------------------------------

    async def send(self, message: dict) -> None:
        line = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        self.write_raw_line(line)
        await self.flush()

    def write_raw_line(self, text: str) -> None:
        try:
            self._output.write(text.encode("utf-8") + b"\n")
        except ClientGone:
            self.gone.set()
            raise

    async def flush(self) -> None:
        try:
            await self._output.drain()
        except ClientGone:
            self.gone.set()
            raise

    async def notify(self, method: str, params: dict) -> None:
        await self.send({"jsonrpc": "2.0", "method": method, "params": params})

    async def request(self, method: str, params: dict) -> Any:
        """Ask the client something; raises RpcError if it answers with an error."""
        request_id = self._next_id
        self._next_id += 1
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
            return await future
        finally:
            self._pending.pop(request_id, None)

    async def _answer(self, request_id: Any, handler: RequestHandler, method: str, params: Any) -> None:
        try:
            result = await handler(method, params)
            reply = {"jsonrpc": "2.0", "id": request_id, "result": result}
        except RpcError as exc:
            reply = {"jsonrpc": "2.0", "id": request_id, "error": exc.to_json()}
        except ClientGone:
            return  # nobody left to answer
        except Exception as exc:  # a bug in the demo agent: say so rather than hang the client
            log(f"internal error in {method}: {exc!r}")
            reply = {"jsonrpc": "2.0", "id": request_id,
                     "error": {"code": INTERNAL_ERROR, "message": f"demo agent failed: {exc}"}}
        try:
            await self.send(reply)
        except ClientGone:
            pass

    # -- receiving -------------------------------------------------------------------------

    async def serve(self, on_request: RequestHandler, on_notification: NotificationHandler) -> None:
        """Dispatch incoming messages until stdin reaches EOF."""
        start_stdin_reader(asyncio.get_running_loop(), self._incoming)
        tasks: set[asyncio.Task] = set()
        while (line := await self._incoming.get()) is not None:
            self._dispatch(line, on_request, on_notification, tasks)
            # Let a just-started request run up to its first await before reading on, so a
            # session/cancel sent right behind a session/prompt finds the turn already started.
            await asyncio.sleep(0)

    def _dispatch(self, line: bytes, on_request, on_notification, tasks: set) -> None:
        if not line.strip():
            return
        try:
            message = json.loads(line)
        except ValueError:
            self._send_soon({"jsonrpc": "2.0", "id": None,
                             "error": {"code": PARSE_ERROR, "message": "Parse error: not JSON"}}, tasks)
            return
        if not isinstance(message, dict):
            self._send_soon({"jsonrpc": "2.0", "id": None,
                             "error": {"code": INVALID_REQUEST, "message": "Invalid request"}}, tasks)
            return
        method = message.get("method")
        if isinstance(method, str):
            params = message.get("params")
            if "id" in message:
                self._spawn(self._answer(message["id"], on_request, method, params), tasks)
            else:
                on_notification(method, params)
        elif "id" in message and ("result" in message or "error" in message):
            self._resolve(message)
        elif "id" in message:
            self._send_soon({"jsonrpc": "2.0", "id": message["id"],
                             "error": {"code": INVALID_REQUEST, "message": "Invalid request"}}, tasks)

    def _resolve(self, message: dict) -> None:
        future = self._pending.get(message["id"])
        if future is None or future.done():
            return  # an answer to a request we stopped waiting for (e.g. after a cancel)
        if "error" in message:
            error = message.get("error") or {}
            future.set_exception(RpcError(error.get("code", INTERNAL_ERROR),
                                          error.get("message", "error"), error.get("data")))
        else:
            future.set_result(message.get("result"))

    def _send_soon(self, message: dict, tasks: set) -> None:
        async def send() -> None:
            try:
                await self.send(message)
            except ClientGone:
                pass

        self._spawn(send(), tasks)

    @staticmethod
    def _spawn(coro, tasks: set) -> None:
        task = asyncio.ensure_future(coro)
        tasks.add(task)  # keep a reference: the loop only holds weak ones
        task.add_done_callback(tasks.discard)
