"""What every fake shares: a threaded loopback HTTP server, the request log, and the "model".

The model decides from the conversation alone (see the package docstring); a vendor subclass
only parses its wire into a `Conversation` and writes `Move`s back in its own streaming format.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIRECTIVE = re.compile(r"\[\[(write|run|slow)\b\s*([^\]]*)\]\]")
# glue_jupyter's seeding wraps the earlier transcript in these lines; its old directives must
# not be acted on again (docs/contract.md, "Seeding format").
SEED = re.compile(r"\[glue_jupyter: earlier transcript\].*?\[end of earlier transcript\]", re.S)

SLOW_CHUNKS = 300
SLOW_PACE = 0.05  # seconds between chunks of a slow reply: 15 s in all, far longer than any test waits
FILE_CONTENT = "written by the fake model\n"


@dataclass
class Conversation:
    """What a request asks of the model, vendor-neutral."""

    prompt: str = ""           # the text of the latest user message
    after_tool: bool = False   # the latest message carries a tool result
    tools: list[str] = field(default_factory=list)
    stream: bool = True
    cwd: str | None = None     # the agent's working directory, when its system prompt says


@dataclass
class Text:
    text: str
    chunks: int = 5
    pace: float = 0.0

    def pieces(self) -> list[str]:
        size = max(1, -(-len(self.text) // self.chunks))
        return [self.text[i:i + size] for i in range(0, len(self.text), size)]


@dataclass
class Write:
    path: str
    content: str = FILE_CONTENT


@dataclass
class Run:
    command: str


Move = Text | Write | Run


@dataclass
class Recorded:
    method: str
    path: str
    body: dict
    conversation: Conversation | None

    @property
    def raw(self) -> str:
        return json.dumps(self.body)


class FakeModel:
    """Base of the vendor fakes. Use as a context manager or call start()/close()."""

    vendor = "fake"

    def __init__(self, slow_chunks: int = SLOW_CHUNKS, slow_pace: float = SLOW_PACE):
        self.slow_chunks = slow_chunks
        self.slow_pace = slow_pace
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeModel:
        fake = self

        class Handler(_Handler):
            model = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"fake-{self.vendor}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()  # slow streams end at their next chunk
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeModel:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # what tests read ------------------------------------------------------------------

    def conversations(self) -> list[Recorded]:
        """Requests that asked the model for a reply, in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.conversation is not None]

    def first_request_with(self, text: str, main: bool = False) -> Recorded | None:
        """The first request whose latest user message holds `text`; `main`: only requests
        offering tools (the agent's own turn, not a side request such as a title)."""
        return next((r for r in self.conversations()
                     if text in r.conversation.prompt and (r.conversation.tools or not main)), None)

    # the model ------------------------------------------------------------------------

    def moves(self, conv: Conversation) -> list[Move]:
        if conv.after_tool:
            return [Text("Done.", chunks=1)]
        prompt = SEED.sub("", conv.prompt)
        found = DIRECTIVE.findall(prompt)
        verb, arg = found[-1] if found else ("", "")
        arg = arg.strip()
        if verb == "write" and arg and self.can_write(conv):
            return [Text(f"I will write {arg}.", chunks=2), Write(self._path(conv, arg))]
        if verb == "run" and arg and self.can_run(conv):
            return [Text(f"I will run {arg}.", chunks=2), Run(arg)]
        if verb == "slow":
            words = " ".join(f"word{i}" for i in range(self.slow_chunks))
            return [Text(words, chunks=self.slow_chunks, pace=self.slow_pace)]
        return [Text(f"Hello from the fake {self.vendor} model.", chunks=5)]

    @staticmethod
    def _path(conv: Conversation, name: str) -> str:
        if name.startswith("/") or not conv.cwd:
            return name
        return f"{conv.cwd.rstrip('/')}/{name}"

    def wait(self, seconds: float) -> bool:
        """Pause a stream; False once the server is closing (stop streaming)."""
        return not self._closing.wait(seconds) if seconds > 0 else not self._closing.is_set()

    # vendor hooks ---------------------------------------------------------------------

    def can_write(self, conv: Conversation) -> bool:
        raise NotImplementedError

    def can_run(self, conv: Conversation) -> bool:
        raise NotImplementedError

    def parse(self, method: str, path: str, body: dict) -> Conversation | None:
        """The conversation a model request carries, or None for other routes."""
        raise NotImplementedError

    def answer(self, http: _Handler, path: str, body: dict, conv: Conversation | None) -> None:
        raise NotImplementedError

    def _record(self, method: str, path: str, body: dict) -> Conversation | None:
        conv = self.parse(method, path, body)
        with self._lock:
            self.requests.append(Recorded(method, path, body, conv))
        return conv


class _Handler(BaseHTTPRequestHandler):
    """One request: record it, then let the vendor answer."""

    model: FakeModel
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet: pytest shows failures, not traffic
        pass

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        if not data:
            return {}
        try:
            value = json.loads(data)
        except ValueError:
            return {"_unparsed": data.decode("utf-8", "replace")}
        return value if isinstance(value, dict) else {"_value": value}

    def _handle(self) -> None:
        body = self._body() if self.command in ("POST", "PUT", "PATCH") else {}
        conv = self.model._record(self.command, self.path, body)
        try:
            self.model.answer(self, self.path, body, conv)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the agent hung up (an interrupt): nothing more to say

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    # writing helpers for the vendors --------------------------------------------------

    def json(self, value, status: int = 200) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def event(self, data: dict, name: str | None = None) -> None:
        head = f"event: {name}\n" if name else ""
        self.wfile.write(f"{head}data: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()
