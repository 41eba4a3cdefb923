"""Each user server as the portal sees it: asked directly, all at once, never waited on for long.

A server that does not answer within `timeout` is shown as such with what it said last time;
it never holds up the others (every server is asked concurrently, each with its own deadline).
Listing requests carry `no_track_activity`, so a portal left open never keeps a server from
being culled; controls the user sends through the portal are the user's activity, as they should be.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.simple_httpclient import HTTPTimeoutError

from .errors import ServerRefused, ServerUnreachable
from .hubapi import HubServer, server_path

LISTING = {"no_track_activity": "1"}


@dataclass
class Seen:
    info: dict
    sessions: list[dict]
    at: float


class LastSeen:
    """What each server last answered, to show while it is stopped.

    A cache of the servers' own state, never the truth: replaced at every answer, bounded, lost
    when the portal restarts (the servers, and their databases, are where sessions live).
    """

    def __init__(self, limit: int = 10_000):
        self.limit = limit
        self._seen: OrderedDict[tuple[str, str], Seen] = OrderedDict()

    def remember(self, key: tuple[str, str], seen: Seen) -> None:
        self._seen[key] = seen
        self._seen.move_to_end(key)
        while len(self._seen) > self.limit:
            self._seen.popitem(last=False)

    def recall(self, key: tuple[str, str]) -> Seen | None:
        return self._seen.get(key)


@dataclass
class ServerView:
    """One server's row in the portal: its state, its limits and its sessions."""

    user: str
    name: str
    url: str  # public, for "open" links
    state: str  # running | starting | stopping | stopped | not answering | error
    message: str | None = None
    info: dict | None = None  # {"version", "active", "limit"} from the server
    sessions: list[dict] = field(default_factory=list)
    seen_at: float | None = None  # when these sessions were read
    stale: bool = False  # sessions from an earlier look, not from now

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user, "name": self.name, "url": self.url, "state": self.state,
                "message": self.message, "info": self.info, "sessions": self.sessions,
                "seen_at": self.seen_at, "stale": self.stale}


class ServerClient:
    """Requests to single-user servers, with the user's token, at the address the proxy routes to."""

    def __init__(self, http: AsyncHTTPClient, timeout: float, proxy_url: str = ""):
        self.http = http
        self.timeout = timeout
        self.proxy_url = proxy_url.rstrip("/")

    def base_url(self, server: HubServer, routes: dict[str, str] | None) -> str | None:
        path = server_path(server)
        if routes and path in routes:
            return routes[path] + path
        if self.proxy_url:
            return self.proxy_url + path
        return None

    async def request(self, base: str, path: str, token: str, *, method: str = "GET",
                      body: Any = None, query: dict | None = None, timeout: float | None = None) -> Any:
        url = base + path + (f"?{urlencode(query)}" if query else "")
        payload = None if method == "GET" else json.dumps(body if body is not None else {})
        headers = {"Authorization": f"token {token}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        limit = timeout or self.timeout
        try:
            response = await self.http.fetch(url, method=method, body=payload, headers=headers,
                                              request_timeout=limit, connect_timeout=min(limit, self.timeout),
                                              follow_redirects=False)
        except HTTPTimeoutError:
            raise ServerUnreachable(f"No answer within {limit:g} s.") from None
        except HTTPClientError as e:
            if e.code == 599 or e.response is None:  # tornado's "no response": reset, closed
                raise ServerUnreachable(f"Cannot reach it: {e.message or e}.") from None
            raise ServerRefused(e.code, _message_of(e)) from None
        except OSError as e:  # refused, unreachable
            raise ServerUnreachable(f"Cannot reach it: {e.strerror or e}.") from None
        return json.loads(response.body) if response.body else None

    async def view(self, server: HubServer, base: str | None, token: str, last_seen: LastSeen) -> ServerView:
        """Ask one server for its sessions and limits; whatever happens, return its row."""
        remembered = last_seen.recall(server.key)
        row = ServerView(server.user, server.name, server.url, server.state)
        if server.state != "running":
            return _with_memory(row, remembered)
        if base is None:
            row.state, row.message = "error", (
                "The portal does not know where this server listens: give the portal's service "
                "the `proxy` scope, or set GluePortal.proxy_url.")
            return _with_memory(row, remembered)
        try:
            listing = await self.request(base, "api/glue/sessions", token, query=LISTING)
            if "limit" in listing:
                info = {"active": listing["active"], "limit": listing["limit"]}
            else:  # a server from before the listing carried its slots
                info = await self.request(base, "api/glue/info", token, query=LISTING)
        except ServerUnreachable as e:
            row.state, row.message = "not answering", str(e)
            return _with_memory(row, remembered)
        except ServerRefused as e:
            row.state, row.message = "error", _refusal(e)
            return _with_memory(row, remembered)
        seen = Seen(info=info, sessions=listing["sessions"], at=time.time())
        last_seen.remember(server.key, seen)
        row.info, row.sessions, row.seen_at = seen.info, seen.sessions, seen.at
        return row


def _with_memory(row: ServerView, remembered: Seen | None) -> ServerView:
    if remembered is not None:
        row.info, row.sessions, row.seen_at, row.stale = remembered.info, remembered.sessions, remembered.at, True
    return row


def _refusal(error: ServerRefused) -> str:
    if error.status == 404:
        return "glue_jupyter is not enabled on this server (its API answered 404)."
    if error.status in (401, 403):
        return "This server refused your credentials."
    return f"The server answered {error.status}: {error.message}"


def _message_of(error: HTTPClientError) -> str:
    try:
        body = json.loads(error.response.body)
    except (ValueError, TypeError, AttributeError):
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return str(error.message or error)


def session_path(session_id: str, *rest: str) -> str:
    return "/".join(["api/glue/sessions", quote(session_id, safe="")] + [quote(r, safe="") for r in rest])
