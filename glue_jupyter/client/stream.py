"""Follow one session's event stream over the WebSocket, blocking, with reconnects.

Yields the server's messages as they come: ``{"type": "events", "events": [...]}`` and, once
the replay is done, ``{"type": "live", "last_seq": N}``. A dropped connection (or the
server closing a slow client with 4008) is reopened from the last sequence number seen, and
events already yielded are filtered out, so the caller sees no gap and no duplicate.
"""

from __future__ import annotations

import json
import time
import urllib.parse

from .errors import NoServerFound, ServerError

RECONNECT_TRIES = 5


def ws_url(http_url: str) -> str:
    scheme, rest = http_url.split("://", 1)
    return ("wss://" if scheme == "https" else "ws://") + rest


class Follower:
    def __init__(self, client, session_id: str, after_seq: int = 0):
        self.client = client
        self.session_id = session_id
        self.last_seq = after_seq
        self._ws = None
        self._closed = False

    def _connect(self):
        import websocket  # websocket-client, a jupyter_server dependency; only needed here

        sid = urllib.parse.quote(self.session_id, safe="")
        url = ws_url(self.client.url) + f"api/glue/sessions/{sid}/stream?after_seq={self.last_seq}"
        header = []
        if self.client.server.token:
            header.append(f"Authorization: token {self.client.server.token}")
        try:
            return websocket.create_connection(url, header=header, timeout=None)
        except websocket.WebSocketBadStatusException as e:
            if e.status_code == 404:
                # Let the REST route phrase it (it names the session).
                self.client.get(self.session_id)
            raise ServerError(f"the event stream was refused ({e.status_code})", e.status_code) from None

    def __iter__(self):
        import websocket

        tries = 0
        while not self._closed:
            try:
                self._ws = self._connect()
            except (OSError, websocket.WebSocketException) as e:
                tries += 1
                if tries >= RECONNECT_TRIES:
                    raise NoServerFound(f"lost the event stream of {self.session_id}: {e}") from None
                time.sleep(min(2.0, 0.1 * 2**tries))  # reconnect backoff, not synchronisation
                continue
            try:
                while not self._closed:
                    raw = self._ws.recv()
                    if not raw:
                        break  # closed by the server (e.g. 4008 for a slow client): reconnect
                    tries = 0
                    msg = json.loads(raw)
                    if msg.get("type") == "events":
                        fresh = [e for e in msg.get("events", []) if e["seq"] > self.last_seq]
                        if not fresh:
                            continue
                        self.last_seq = fresh[-1]["seq"]
                        yield {"type": "events", "events": fresh}
                    else:
                        yield msg
            except (OSError, websocket.WebSocketException):
                if self._closed:
                    return
            finally:
                self._close_ws()

    def _close_ws(self):
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close()
            except Exception:  # closing a dead socket: nothing left to do
                pass

    def close(self):
        """Stop following (safe from another thread: unblocks the pending receive)."""
        self._closed = True
        ws = self._ws
        if ws is not None:
            try:
                ws.abort()
            except Exception:
                pass


def follow(client, session_id: str, after_seq: int = 0) -> Follower:
    return Follower(client, session_id, after_seq)


def _first_event(client, session_id: str, after_seq: int, matches, timeout: float | None) -> dict | None:
    """The first event after ``after_seq`` that ``matches``, replay then live; None if the
    stream ended (closed by the timeout, or lost) before one came."""
    import threading

    follower = client.follow(session_id, after_seq)
    timer = threading.Timer(timeout, follower.close) if timeout else None
    if timer:
        timer.daemon = True
        timer.start()
    try:
        for msg in follower:
            for ev in msg.get("events", ()):
                if matches(ev):
                    return ev
    finally:
        if timer:
            timer.cancel()
        follower.close()
    return None


# Events after which a session's snapshot (state, turns, pending permissions, title, the agent's
# mode/usage/commands, the queue, the workspace) may differ.
SNAPSHOT_KINDS = frozenset({"state", "turn_start", "turn_end", "permission_request", "permission_answer",
                            "resume", "session_info", "config_change", "usage", "commands",
                            "message_queued", "queued_message_edited", "queued_message_removed",
                            "turn_changes", "rewind", "worktree", "merge", "discard", "fork", "forked_from"})


def wait_for_session(client, session_id: str, predicate, timeout: float | None = None) -> dict:
    """Block until ``predicate(session)`` holds; returns the session. Event driven, like
    wait_for_state, for conditions other than a state (a turn count, a pending request)."""
    session = client.get(session_id)
    if predicate(session):
        return session
    found = {}

    def matches(ev):
        if ev["kind"] in SNAPSHOT_KINDS:
            found["session"] = client.get(session_id)
            return predicate(found["session"])
        return False

    if _first_event(client, session_id, session["last_seq"], matches, timeout) is not None:
        return found["session"]
    raise ServerError(f"session {session_id} did not get there within {timeout:g} s" if timeout
                      else f"lost the event stream of session {session_id}")


def wait_for_state(client, session_id: str, states, timeout: float | None = None) -> dict:
    """Block until the session is in one of ``states``; returns the session.

    Event driven: reads the state now, then follows the stream from that point, so a change
    in between is replayed rather than missed.
    """
    states = {states} if isinstance(states, str) else set(states)
    session = client.get(session_id)
    if session["state"] in states:
        return session
    reached = _first_event(client, session_id, session["last_seq"],
                           lambda ev: ev["kind"] == "state" and ev["data"].get("state") in states, timeout)
    if reached is not None:
        return client.get(session_id)
    raise ServerError(
        f"session {session_id} did not reach {'/'.join(sorted(states))} within {timeout:g} s"
        if timeout else f"lost the event stream of session {session_id}"
    )


SETTLED = ("idle", "paused", "stopped", "failed")


def follow_until_settled(client, session_id: str, after_seq: int = 0):
    """Yield the session's events, replay then live, until nothing is going on: the session
    is idle, paused, stopped or failed and every event up to then has been yielded, or it
    waits for an answer to a permission request (yielded last)."""
    follower = client.follow(session_id, after_seq)
    live = False  # state changes in the replay are history, not the end
    waiting: set = set()  # permission requests seen in the stream and not answered in it
    stop_at = None  # the seq after which nothing more is expected
    try:
        for msg in follower:
            if msg["type"] == "live":
                live = True
                s = client.get(session_id)
                if s["state"] in SETTLED:
                    stop_at = s["last_seq"]
            for ev in msg.get("events", ()):
                yield ev
                if live and ev["kind"] == "state" and ev["data"].get("state") in SETTLED:
                    stop_at = ev["seq"] if stop_at is None else stop_at
                if ev["kind"] == "permission_request":
                    waiting.add(ev["data"].get("request_id"))
                elif ev["kind"] == "permission_answer":
                    waiting.discard(ev["data"].get("request_id"))
            if live and waiting:
                return  # the turn now waits for the user: hand them the prompt back
            if stop_at is not None and follower.last_seq >= stop_at:
                return
    finally:
        follower.close()


def wait_for_event(client, session_id: str, kind: str, after_seq: int = 0, timeout: float | None = None) -> dict:
    """The first event of ``kind`` after ``after_seq``: from the log if it is there, else live."""
    event = _first_event(client, session_id, after_seq, lambda ev: ev["kind"] == kind, timeout)
    if event is not None:
        return event
    raise ServerError(f"no {kind} event in session {session_id}" + (f" within {timeout:g} s" if timeout else ""))


class EventWaits:
    """`wait` and `wait_for_event` for either client (anything with get, events and follow)."""

    def wait(self, session_id, states=SETTLED, timeout=None) -> dict:
        """Block until the session reaches one of ``states`` (default: nothing going on)."""
        return wait_for_state(self, session_id, states, timeout)

    def wait_for_event(self, session_id, kind, after_seq=0, timeout=None) -> dict:
        """Block until an event of ``kind`` is stored after ``after_seq``; returns it."""
        return wait_for_event(self, session_id, kind, after_seq, timeout)
