"""What the portal does for one request: list a user's servers and sessions, forward a control.

Nothing here is kept between requests except `LastSeen` (a cache for stopped servers): the hub
says which servers exist and who may see them, the servers say what their sessions are.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from ..client.permissions import pending_requests
from .errors import HubError, PortalError, ServerRefused, ServerUnreachable
from .hubapi import HubAPI, HubServer, servers_of
from .servers import LastSeen, ServerClient, ServerView, session_path


@dataclass
class Caller:
    """Who is asking, and with which token (theirs: the portal acts with their permissions)."""

    name: str
    token: str
    scopes: frozenset[str]


class Portal:
    def __init__(self, hub: HubAPI, servers: ServerClient, admin_scopes: set[str],
                 last_seen: LastSeen, control_timeout: float):
        self.hub = hub
        self.servers = servers
        self.admin_scopes = frozenset(admin_scopes)
        self.last_seen = last_seen
        self.control_timeout = control_timeout

    def sees_everyone(self, caller: Caller) -> bool:
        # Unfiltered scopes only: "admin:servers!group=x" does not make a glue admin.
        return bool(caller.scopes & self.admin_scopes)

    async def listing(self, caller: Caller, timing: dict[str, float] | None = None) -> dict[str, Any]:
        """Every server the caller may see, with its sessions. `timing` receives how long each
        step took, in seconds (hub: the servers and their addresses; servers: asking them all):
        the API's Server-Timing header."""
        timing = {} if timing is None else timing
        clock = time.perf_counter()

        def lap(step: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timing[step], clock = now - clock, now

        everyone = self.sees_everyone(caller)

        async def visible_users() -> list[dict]:
            if everyone:
                return await self.hub.users(caller.token)
            return [await self.hub.user(caller.token, caller.name)]

        try:  # who has which servers, and where they listen: two independent questions to the hub
            users, routes = await asyncio.gather(visible_users(), self._routes())
        except HubError as e:
            raise PortalError(e.status if e.status < 500 else 502, e.message) from None
        lap("hub")
        servers = [server for user in users for server in servers_of(user)]
        views = list(await asyncio.gather(*(
            self.servers.view(server, self.servers.base_url(server, routes), caller.token, self.last_seen)
            for server in servers)))
        lap("servers")
        if not any(v.user == caller.name and v.name == "" for v in views):
            # Never started (or removed): still offer to start it.
            views.append(ServerView(caller.name, "", "", "stopped"))
        views.sort(key=lambda v: (v.user != caller.name, v.user, v.name))
        return {"user": caller.name, "everyone": everyone, "at": time.time(),
                "servers": [v.to_json() for v in views]}

    async def forward(self, caller: Caller, user: str, server_name: str, path: str, *,
                      method: str = "POST", body: Any = None) -> Any:
        """Send one request to the server where a session lives, with the caller's token."""
        server = await self._server(caller, user, server_name)
        routes = await self._routes()
        base = self.servers.base_url(server, routes)
        if base is None:
            raise PortalError(502, "The portal does not know where this server listens: give the "
                                   "portal's service the `proxy` scope, or set GluePortal.proxy_url.")
        try:
            return await self.servers.request(base, path, caller.token, method=method, body=body,
                                              timeout=self.control_timeout)
        except ServerRefused as e:
            raise PortalError(e.status, e.message) from None
        except ServerUnreachable as e:
            raise PortalError(504, f"{_label(server)} does not answer. {e}") from None

    async def pending_permissions(self, caller: Caller, user: str, server_name: str, session_id: str) -> list[dict]:
        reply = await self.forward(caller, user, server_name, session_path(session_id, "events"), method="GET")
        return pending_requests(reply["events"])

    async def _server(self, caller: Caller, user: str, server_name: str) -> HubServer:
        try:
            model = await self.hub.user(caller.token, user)
        except HubError as e:
            if e.status == 404 and user != caller.name:
                raise PortalError(403, f"You may not see or control {user}'s servers.") from None
            raise PortalError(e.status if e.status < 500 else 502, e.message) from None
        for server in servers_of(model):
            if server.name == server_name:
                if server.state != "running":
                    raise PortalError(409, f"{_label(server)} is {server.state}; start it first.")
                return server
        raise PortalError(404, f"{user} has no server named {server_name!r}." if server_name
                          else f"{user}'s server has never been started.")

    async def _routes(self) -> dict[str, str] | None:
        try:
            return await self.hub.routes()
        except HubError:
            return None  # servers then fall back to proxy_url, or say they cannot be reached


def _label(server: HubServer) -> str:
    return f"{server.user}'s server {server.name!r}" if server.name else f"{server.user}'s server"
