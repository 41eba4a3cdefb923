"""WebSockets: one session's events (replay, then live) and every session's changes.

Each socket owns one engine subscription and one pump task. The pump waits for each write to
be flushed before taking the next batch, so nothing queues up in the server for a slow reader:
its bounded engine queue overflows instead, or a write stalls past `write_timeout`, and the
socket is closed with 4008 so the client reconnects from its last seq. Every socket has its own
pump, so one stuck reader never delays the others. A session stream whose session is forgotten
is closed with 4004 (GONE): there is nothing left to reconnect to.

Every subscriber of a session receives the very same batch object from the engine (and every
watcher the same change), so its JSON is written once and shared (SharedJSON): fifty sockets
cost one encode per batch, not fifty.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from typing import Any, Callable

from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..engine import GlueError, SubscriberTooSlow, UnknownSession
from .errors import ScrubbedLogs, glue_errors
from .handlers import AUTH_RESOURCE, parse_count

TOO_SLOW = 4008
GONE = 4004  # the session was forgotten: reconnecting cannot help


class ReaderTooSlow(Exception):
    """A write was not flushed within write_timeout: the client stopped reading."""


class SharedJSON:
    """The JSON text of recently sent objects, by identity. An entry holds its object, so an id
    is never reused while cached. Bounded in entries and characters (a replay page is large and
    read by one socket only); a reader far behind the others simply encodes again."""

    def __init__(self, entries: int = 64, chars: int = 8_000_000):
        self._entries, self._chars, self._held = entries, chars, 0
        self._texts: OrderedDict[int, tuple[Any, str]] = OrderedDict()

    def text(self, shared: Any, build: Callable[[], Any]) -> str:
        """The JSON of `build()`, which depends on `shared` only."""
        hit = self._texts.get(id(shared))
        if hit is not None and hit[0] is shared:
            return hit[1]
        text = json.dumps(build())
        if len(text) <= self._chars // 8:
            self._texts[id(shared)] = (shared, text)
            self._held += len(text)
            while len(self._texts) > self._entries or self._held > self._chars:
                self._held -= len(self._texts.popitem(last=False)[1][1])
        return text

    def events(self, batches: list[list[dict]]) -> str:
        """One `events` message holding every event of `batches`, each batch encoded once."""
        arrays = [self.text(batch, lambda: batch)[1:-1] for batch in batches]  # "[...]" -> "..."
        return '{"type": "events", "events": [' + ", ".join(arrays) + "]}"


class GlueSocket(ScrubbedLogs, WebSocketMixin, WebSocketHandler, JupyterHandler):
    """Authenticated, authorized on AUTH_RESOURCE, origin-checked (WebSocketMixin) socket."""

    auth_resource = AUTH_RESOURCE
    pump: asyncio.Task | None = None
    source: Any = None  # the engine subscription or watch this socket drains

    def initialize(self, manager, ready, write_timeout: float, shared: SharedJSON) -> None:
        self.manager = manager
        self.ready = ready
        self.write_timeout = write_timeout
        self.shared = shared

    def set_default_headers(self) -> None:
        """JupyterHandler's headers (CSP etc.) make no sense on a websocket upgrade."""

    def on_message(self, message: Any) -> None:
        """Clients only listen; anything they send is ignored."""

    async def send(self, text: str) -> None:
        """Write one message (JSON text) and wait until it is flushed to the socket."""
        flushed = self.write_message(text)
        if not flushed.done():  # usually written at once: no timer, no extra loop turn
            done, _ = await asyncio.wait({flushed}, timeout=self.write_timeout)
            if not done:
                raise ReaderTooSlow
        flushed.result()

    def start(self, source, messages) -> None:
        self.source = source
        self.pump = asyncio.ensure_future(self._pump(messages))

    async def _pump(self, messages) -> None:
        try:
            async for message in messages:
                await self.send(message)
            self.close(1000, "stream ended")
        except WebSocketClosedError:
            pass
        except (ReaderTooSlow, SubscriberTooSlow):
            self.log.warning("glue_jupyter: %s fell behind (reads too slowly); closed with %s",
                             self.request.path, TOO_SLOW)
            self.close(TOO_SLOW, "too slow: reconnect from your last seq")
        except UnknownSession as e:  # forgotten meanwhile
            self.close(GONE, e.message[:120])
        except GlueError as e:
            self.close(1000, e.message[:120])
        except Exception:
            self.log.exception("glue_jupyter: stream %s failed", self.request.path)
            self.close(1011, "internal error")
        finally:
            self.source.close()  # free the engine's queue now, not when the socket is gone

    def on_close(self) -> None:
        if self.pump is not None:
            self.pump.cancel()


class SessionStreamHandler(GlueSocket):
    """`api/glue/sessions/{id}/stream?after_seq=N`: events after N, `live`, then live events."""

    @ws_authenticated
    @authorized
    async def get(self, session_id: str) -> None:
        await self.ready()
        self.after_seq = parse_count("after_seq", self.get_query_argument("after_seq", None), 0) or 0
        with glue_errors():
            self.manager.get(session_id)  # 404 before the upgrade, not a socket that closes
        await super().get(session_id)

    def open(self, session_id: str) -> None:
        super().open()
        self.session_id = session_id
        # Subscribing stores what is pending, so the session's last_seq is then exactly where
        # the replay ends and live events begin.
        subscription = self.manager.subscribe(session_id, self.after_seq)
        replay_until = self.manager.get(session_id)["last_seq"]
        self.start(subscription, self._messages(subscription, replay_until))

    async def _messages(self, subscription, replay_until: int):
        seq = self.after_seq
        if seq >= replay_until:
            yield json.dumps({"type": "live", "last_seq": seq})
        async for first in subscription:
            # Batches that queued up while this socket was writing go out as one message.
            batches = [first, *subscription.ready()]
            if batches[0] and batches[0][0]["seq"] <= seq:  # a client that claimed seqs not yet stored
                batches = [[event for event in batch if event["seq"] > seq] for batch in batches]
            batches = [batch for batch in batches if batch]
            if not batches:
                continue
            last = batches[-1][-1]["seq"]
            yield self.shared.events(batches)
            if seq < replay_until <= last:
                yield json.dumps({"type": "live", "last_seq": last})
            seq = last
        # The engine ends a session's subscriptions when it forgets the session (or closes).
        self.manager.get(self.session_id)  # UnknownSession -> closed with GONE


class GlobalStreamHandler(GlueSocket):
    """`api/glue/stream`: a snapshot of every session, then each change."""

    @ws_authenticated
    @authorized
    async def get(self) -> None:
        await self.ready()
        await super().get()

    def open(self) -> None:
        super().open()
        # Watch before the snapshot: a change in between is sent twice, never lost.
        watch = self.manager.watch()
        self.start(watch, self._messages(watch, self.manager.list_sessions()))

    async def _messages(self, watch, sessions: list):
        yield json.dumps({"type": "snapshot", "sessions": sessions})
        async for change in watch:
            yield self.shared.text(change, lambda: change)  # the same dict goes to every watcher
        # The engine ends a watch that overflowed (or when it closes): either way the client's
        # move is to reconnect and take a fresh snapshot.
        raise ReaderTooSlow


routes = [
    (r"/api/glue/sessions/(?P<session_id>[^/]+)/stream", SessionStreamHandler),
    (r"/api/glue/stream", GlobalStreamHandler),
]
