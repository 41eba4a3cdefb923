"""Speak ACP to one agent process, through the `agent-client-protocol` package.

Our requests go through the package's client connection: typed where its models hold all we
need, raw where they would drop fields agents send (a session's `models`, which Gemini CLI
uses, is not in the package's models; nor is `session/set_model`). Two kinds of agent-to-client messages are taken off the wire by our
own transport instead, in wire order, because the package handles each incoming message in a
task of its own (which can reorder a burst of updates) and validates each with pydantic (too
slow for a flood): `session/update` notifications and `session/request_permission` requests.
Garbage on stdout is reported, not logged with a traceback.

Importing this module imports `acp` (over half a second): only the engine does, when a
session starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import struct
import termios
from pathlib import Path
from typing import Annotated, Any, Protocol

import acp
from acp import RequestError
from acp.schema import (
    ClientCapabilities,
    EmbeddedResourceContentBlock,
    FileSystemCapabilities,
    Implementation,
    ReadTextFileResponse,
    ResourceContentBlock,
    TextContentBlock,
    WriteTextFileResponse,
)
from pydantic import Field, TypeAdapter

from .. import __version__
from .files import AgentFiles, FileRefused
from .unicode import valid_unicode
from .acp_options import turn_usage

PROTOCOL_VERSION = 1
PROMPT_SETTLE_LIMIT = 2.0  # seconds a prompt may wait for the agent's earlier output to be read
DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024  # EngineConfig.max_agent_file_size
PROMPT_BLOCK = TypeAdapter(Annotated[TextContentBlock | ResourceContentBlock | EmbeddedResourceContentBlock,
                                     Field(discriminator="type")])


class WireSink(Protocol):
    """What the session provides to receive the hot-path messages, in wire order."""

    def on_update(self, params: dict) -> None: ...
    def on_permission_request(self, request_id: Any, params: dict) -> None: ...
    def on_garbage(self, text: str) -> None: ...
    def on_file_written(self, path: str) -> None: ...


class MutedSink:
    """The sink of a short-lived agent process that must not act (a check, a session listing):
    updates are ignored, permission requests refused. Set `driver` once the driver exists."""

    def __init__(self) -> None:
        self.driver = None

    def on_update(self, params: dict) -> None:
        pass

    def on_permission_request(self, request_id: Any, params: dict) -> None:
        if self.driver is not None:
            asyncio.ensure_future(self.driver.answer_permission(request_id, None))

    def on_garbage(self, text: str) -> None:
        pass

    def on_file_written(self, path: str) -> None:
        pass


class OrderedStdioTransport:
    """An `acp` Transport over the agent's pipes that routes updates in wire order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sink: WireSink):
        self._reader = reader
        self._writer = writer
        self._sink = sink
        self._closed = False
        self.prompt_on_wire = asyncio.Event()
        self.prompt_on_wire.set()

    async def send(self, message: dict[str, Any]) -> None:
        if self._closed or self._writer.is_closing():
            raise ConnectionError("agent connection closed")
        is_prompt = message.get("method") == "session/prompt"
        if is_prompt:
            await self._read_what_was_sent()
        self._writer.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        if is_prompt:
            self.prompt_on_wire.set()
        await self._writer.drain()

    def _unread(self) -> int:
        """Bytes the agent wrote that have not been dispatched yet: in the reader's buffer and
        in the pipe. (asyncio's StreamReader keeps both counts private.)"""
        pending = len(getattr(self._reader, "_buffer", b""))
        transport = getattr(self._reader, "_transport", None)
        pipe = transport.get_extra_info("pipe") if transport is not None else None
        if pipe is not None:
            with contextlib.suppress(OSError, ValueError):
                pending += struct.unpack("i", fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0" * 4))[0]
        return pending

    async def _read_what_was_sent(self) -> None:
        """Before a prompt goes on the wire, let what the agent sent until now be read, so it is
        not taken for part of the new turn (e.g. history Gemini CLI streams after answering
        session/load). Bounded: an agent that never stops talking delays a prompt a little."""
        deadline = asyncio.get_running_loop().time() + PROMPT_SETTLE_LIMIT
        while self._unread() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.001)  # the reader task runs meanwhile

    async def receive(self) -> dict[str, Any] | None:
        while True:
            try:
                line = await self._reader.readline()
            except ValueError:  # a line over the reader's limit; it has been discarded
                self._sink.on_garbage("<an over-long line was dropped>")
                continue
            except (ConnectionError, asyncio.IncompleteReadError):
                return None
            if not line:
                return None
            line = line.strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except ValueError:
                self._sink.on_garbage(line.decode("utf-8", "replace"))
                continue
            if b"\\ud" in line or b"\\uD" in line:  # maybe a lone surrogate: not text we can keep
                message = valid_unicode(message)
            if not isinstance(message, dict):
                self._sink.on_garbage(line.decode("utf-8", "replace"))
                continue
            method = message.get("method")
            if method == "session/update" and "id" not in message:
                self._sink.on_update(message.get("params") or {})
                continue
            if method == "session/request_permission" and "id" in message:
                self._sink.on_permission_request(message["id"], message.get("params") or {})
                continue
            return message

    async def close(self) -> None:
        self._closed = True
        with contextlib.suppress(Exception):
            self._writer.close()


class MissingFileAsText(RequestError):
    """"Resource not found" sent as a bare string, for agents that only read an error's text.

    Gemini CLI's ACP library hands the JSON-RPC error object to code that looks for
    "Resource not found"/"ENOENT" in `String(error)`, which for an object is "[object Object]"
    (google-gemini/gemini-cli#9280): a proper error object leaves it unable to create files.
    """

    def to_error_obj(self):
        return str(self)


class _Client:
    """The client side for the remaining agent requests: file access under files.py's rules."""

    def __init__(self, cwd: Path, sink: WireSink, missing_file: str = "error", files: AgentFiles | None = None):
        self.files = files or AgentFiles(cwd, DEFAULT_MAX_FILE_BYTES)
        self._sink = sink
        self._missing_file = missing_file
        self.auth_status: dict | None = None
        self.auth_status_seen = asyncio.Event()

    async def read_text_file(self, session_id, path, line=None, limit=None, **kwargs):
        try:
            text = await self.files.read(path, line, limit)
        except FileNotFoundError as exc:
            target = exc.filename or path
            # ACP's "resource not found", worded as the reference TypeScript SDK words it.
            error = MissingFileAsText if self._missing_file == "error-text" else RequestError
            raise error(-32002, f"Resource not found: {target}", {"uri": str(target)}) from exc
        except FileRefused as exc:
            raise RequestError.invalid_params({"details": str(exc)}) from exc
        except OSError as exc:
            raise RequestError.internal_error({"details": f"cannot read {path}: {exc}"}) from exc
        return ReadTextFileResponse(content=text)

    async def write_text_file(self, session_id, path, content, **kwargs):
        try:
            target = await self.files.write(path, content)
        except FileRefused as exc:
            raise RequestError.invalid_params({"details": str(exc)}) from exc
        except OSError as exc:
            raise RequestError.internal_error({"details": f"cannot write {path}: {exc}"}) from exc
        self._sink.on_file_written(str(target))
        return WriteTextFileResponse()

    async def session_update(self, session_id, update, **kwargs):  # taken off the wire earlier
        return None

    async def request_permission(self, session_id, tool_call, options, **kwargs):  # ditto
        raise RequestError.internal_error({"details": "permission requests are routed by the transport"})

    async def ext_notification(self, method: str, params: dict) -> None:
        # Claude's and Codex's adapters push who they are signed in as (an `_meta` extension).
        if method.lstrip("_") == "auth/status_update" and isinstance(params.get("authStatus"), dict):
            self.auth_status = params["authStatus"]
            self.auth_status_seen.set()

    def on_connect(self, conn) -> None:
        pass


def _dump(model) -> dict:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True) if model is not None else {}


class AcpDriver:
    """One ACP connection to one agent process."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cwd: str, sink: WireSink,
                 missing_file: str = "error", files: AgentFiles | None = None):
        self.transport = OrderedStdioTransport(reader, writer, sink)
        self.client = _Client(Path(cwd), sink, missing_file, files)
        self.conn = acp.connect_to_agent(self.client, self.transport)
        self.capabilities: dict = {}
        self.agent_info: dict = {}
        self.auth_methods: list[dict] = []
        self.mcp_servers: list[dict] = []  # ACP McpServer objects (camelCase) for every session
        self.meta: dict = {}   # the initialize response's _meta (e.g. the steering extension)

    async def initialize(self) -> dict:
        response = await self.conn.initialize(
            protocol_version=PROTOCOL_VERSION,
            client_capabilities=ClientCapabilities(
                fs=FileSystemCapabilities(read_text_file=True, write_text_file=True), terminal=False
            ),
            client_info=Implementation(name="glue_jupyter", title="glue_jupyter", version=__version__),
        )
        self.capabilities = _dump(response.agent_capabilities)
        self.agent_info = _dump(response.agent_info)
        self.auth_methods = [_dump(m) for m in response.auth_methods or []]
        self.meta = response.field_meta or {}
        return self.capabilities

    @property
    def can_load(self) -> bool:
        return bool(self.capabilities.get("loadSession"))

    def _session_capability(self, name: str) -> bool:
        return (self.capabilities.get("sessionCapabilities") or {}).get(name) is not None

    @property
    def can_resume(self) -> bool:
        return self._session_capability("resume")

    @property
    def can_list(self) -> bool:
        return self._session_capability("list")

    @property
    def can_fork(self) -> bool:
        return self._session_capability("fork")

    @property
    def can_steer(self) -> bool:
        """The agent takes `_session/steering` (the extension claude-agent-acp and codex-acp ship:
        a message joins the turn in flight), advertised as `_meta.steering.supported`."""
        for meta in (self.meta, self.capabilities.get("_meta") or {}):
            steering = meta.get("steering") if isinstance(meta, dict) else None
            if isinstance(steering, dict) and steering.get("supported") is True:
                return True
        return False

    async def steer(self, session_id: str, blocks: list[dict]) -> str:
        """Put a message into the running turn: "injected", or why not ("promptRequired" when
        the turn ended meanwhile, "failed")."""
        params = {"sessionId": session_id, "prompt": blocks,
                  "_meta": {"steering": {"idleBehavior": "promptRequired"}}}
        try:
            response = await self.conn.ext_method("session/steering", params)
        except Exception:
            return "failed"
        outcome = response.get("outcome") if isinstance(response, dict) else None
        return outcome if isinstance(outcome, str) else "failed"

    async def fork_session(self, session_id: str, cwd: str) -> str:
        response = await self.conn.fork_session(session_id=session_id, cwd=cwd, mcp_servers=[])
        return response.session_id

    @property
    def can_close(self) -> bool:
        return self._session_capability("close")

    async def _raw(self, method: str, params: dict) -> dict:
        """A request whose answer we read as JSON, every field the agent sent included."""
        result = await self.conn._conn.send_request(method, params)
        return result if isinstance(result, dict) else {}

    async def new_session(self, cwd: str) -> dict:
        """The answer to session/new: sessionId, and modes, models, configOptions if offered."""
        result = await self._raw("session/new", {"cwd": cwd, "mcpServers": self.mcp_servers})
        if not isinstance(result.get("sessionId"), str) or not result["sessionId"]:
            raise ValueError("the agent answered session/new without a sessionId")
        return result

    async def load_session(self, session_id: str, cwd: str) -> dict:
        return await self._raw("session/load", {"sessionId": session_id, "cwd": cwd, "mcpServers": self.mcp_servers})

    async def resume_session(self, session_id: str, cwd: str) -> dict:
        return await self._raw("session/resume", {"sessionId": session_id, "cwd": cwd,
                                                   "mcpServers": self.mcp_servers})

    async def set_option(self, session_id: str, option: dict, value: str | bool) -> dict:
        """Set one of our options (acp_options.py) the way the agent offered it; the answer's
        configOptions (set_config_option answers with all of them) or {}."""
        if option["via"] == "config":
            response = await self.conn.set_config_option(config_id=option["id"], session_id=session_id, value=value)
            return _dump(response)
        if option["via"] == "mode":
            await self.conn.set_session_mode(session_id=session_id, mode_id=value)
            return {}
        return await self._raw("session/set_model", {"sessionId": session_id, "modelId": value})

    async def list_sessions(self, cwd: str | None, cursor: str | None = None) -> dict:
        response = await self.conn.list_sessions(cwd=cwd, cursor=cursor)
        return _dump(response)

    async def close_session(self, session_id: str) -> None:
        await self.conn.close_session(session_id=session_id)

    async def authenticate(self, method_id: str) -> None:
        await self.conn.authenticate(method_id=method_id)

    @property
    def auth_status(self) -> dict | None:
        """Who the agent says it is signed in as, if it pushes that (`_auth/status_update`)."""
        return self.client.auth_status

    @property
    def pushes_auth_status(self) -> bool:
        return "authStatus" in ((self.capabilities.get("_meta") or {}))

    async def wait_auth_status(self, timeout: float) -> dict | None:
        """The agent's own word on its sign-in, when it pushes one (Claude's and Codex's adapters
        do, right after `initialize`)."""
        if self.pushes_auth_status:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.client.auth_status_seen.wait(), timeout)
        return self.client.auth_status

    def summary(self) -> dict:
        """What it can do, from `initialize`: loading, resuming, listing, forking and closing
        sessions, and what a prompt may hold."""
        caps = self.capabilities
        prompt = caps.get("promptCapabilities") or {}
        return {
            "load": bool(caps.get("loadSession")),
            **{name: self._session_capability(name) for name in ("resume", "list", "fork", "close")},
            "prompt": ["text"] + [kind for key, kind in (("image", "image"), ("audio", "audio"),
                                                        ("embeddedContext", "embedded_context")) if prompt.get(key)],
        }

    def prompt_soon(self) -> None:
        """Call synchronously before scheduling `prompt`: a cancel then waits for it."""
        self.transport.prompt_on_wire.clear()

    @property
    def takes_embedded_context(self) -> bool:
        """Whether prompts may carry embedded resources (else they go as text blocks)."""
        return bool((self.capabilities.get("promptCapabilities") or {}).get("embeddedContext"))

    async def prompt(self, session_id: str, blocks: list[dict]) -> tuple[str, dict | None]:
        """Send ACP content blocks (camelCase dicts: text, resource_link, resource); returns
        (stop reason, the turn's token usage if the agent reported it)."""
        content = [PROMPT_BLOCK.validate_python(b) for b in blocks]
        response = await self.conn.prompt(session_id=session_id, prompt=content)
        usage = turn_usage(_dump(response.usage), response.field_meta)
        return str(getattr(response.stop_reason, "value", response.stop_reason)), usage

    async def cancel(self, session_id: str) -> None:
        # A cancel overtaking its own prompt on the wire would cancel nothing: the prompt
        # request is written by a task that may not have run yet when an interrupt arrives.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.transport.prompt_on_wire.wait(), 5)
        with contextlib.suppress(Exception):
            await self.conn.cancel(session_id=session_id)

    async def answer_permission(self, request_id: Any, option_id: str | None) -> None:
        outcome = {"outcome": "selected", "optionId": option_id} if option_id else {"outcome": "cancelled"}
        with contextlib.suppress(Exception):
            await self.transport.send({"jsonrpc": "2.0", "id": request_id, "result": {"outcome": outcome}})

    async def reject_request(self, request_id: Any, message: str) -> None:
        with contextlib.suppress(Exception):
            await self.transport.send(
                {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32603, "message": message}}
            )

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.conn.close()


AUTH_REQUIRED = -32000


def is_auth_required(exc: BaseException) -> bool:
    return isinstance(exc, RequestError) and exc.code == AUTH_REQUIRED


def error_text(exc: BaseException) -> str:
    """One line for the transcript from whatever the connection raised."""
    if isinstance(exc, RequestError):
        data = exc.data
        detail = ""
        if isinstance(data, dict):
            detail = data.get("details") or data.get("message") or ""
        elif data:
            detail = str(data)
        return f"{exc} {detail}".strip()
    return str(exc) or type(exc).__name__


__all__ = ["AcpDriver", "MutedSink", "WireSink", "error_text", "is_auth_required"]
