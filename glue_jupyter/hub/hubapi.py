"""The few JupyterHub REST API calls the portal makes.

Which servers a user has is asked with *the user's own token*, so the hub decides what each
user may see (their own servers; every user's for a token with the scopes to list them). The
portal's own token is used for one thing only: the proxy's routing table (scope `proxy`), which
says where each server listens, so the portal can talk to servers directly instead of through
the proxy, where every poll would count as the user's activity and no server would ever be culled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlparse

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from .errors import HubError

PAGINATION = "application/jupyterhub-pagination+json"


@dataclass(frozen=True)
class HubServer:
    """One server of one user, as the hub describes it (default server: name "")."""

    user: str
    name: str
    url: str  # the public path, e.g. /user/alice/ or /user/alice/gpu/ (a full URL with subdomains)
    ready: bool
    pending: str | None  # "spawn" | "stop" | None
    last_activity: str | None
    started: str | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.user, self.name)

    @property
    def state(self) -> str:
        if self.pending == "spawn":
            return "starting"
        if self.pending == "stop":
            return "stopping"
        return "running" if self.ready else "stopped"

    @classmethod
    def from_model(cls, user: str, model: dict) -> HubServer:
        return cls(user=user, name=model.get("name") or "", url=model.get("url") or "",
                   ready=bool(model.get("ready")), pending=model.get("pending"),
                   last_activity=model.get("last_activity"), started=model.get("started"))


def servers_of(user_model: dict) -> list[HubServer]:
    servers = user_model.get("servers") or {}
    return [HubServer.from_model(user_model["name"], model) for model in servers.values()]


class HubAPI:
    def __init__(self, api_url: str, service_token: str, http: AsyncHTTPClient, timeout: float):
        self.api_url = api_url.rstrip("/") + "/"
        self.service_token = service_token
        self.http = http
        self.timeout = timeout

    async def get(self, path: str, token: str, *, paginated: bool = False, **params: Any) -> Any:
        query = f"?{urlencode(params)}" if params else ""
        headers = {"Authorization": f"token {token}"}
        if paginated:
            headers["Accept"] = PAGINATION
        try:
            response = await self.http.fetch(self.api_url + path + query, headers=headers,
                                             request_timeout=self.timeout, connect_timeout=self.timeout)
        except HTTPClientError as e:
            raise HubError(e.code, _hub_message(e)) from None
        except OSError as e:
            raise HubError(502, f"The hub's API at {self.api_url} cannot be reached: {e}") from None
        return json.loads(response.body)

    async def user(self, token: str, name: str) -> dict:
        """The user model with every server, stopped ones included (404 when not visible)."""
        try:
            return await self.get(f"users/{quote(name, safe='')}", token, include_stopped_servers=1)
        except HubError as e:
            if e.status in (403, 404):
                raise HubError(404, f"No user {name!r} that you can see.") from None
            raise

    async def users(self, token: str) -> list[dict]:
        """Every user the token may list, page by page, with their servers."""
        users: list[dict] = []
        offset = 0
        while True:
            page = await self.get("users", token, paginated=True, include_stopped_servers=1,
                                  offset=offset, limit=200)
            if isinstance(page, list):  # a hub without pagination answers everything at once
                return page
            users.extend(page["items"])
            following = (page.get("_pagination") or {}).get("next")
            if not following:
                return users
            offset = following["offset"]

    async def routes(self) -> dict[str, str] | None:
        """{public path of a server: where it listens}, from the proxy's routing table; None when
        the portal may not read it (no `proxy` scope)."""
        try:
            table = await self.get("proxy", self.service_token)
        except HubError as e:
            if e.status == 403:
                return None
            raise
        routes = {}
        for spec, route in table.items():
            data = route.get("data") or {}
            if "user" in data and route.get("target"):
                routes[_path_of(spec)] = route["target"].rstrip("/")
        return routes


def _path_of(spec_or_url: str) -> str:
    """The path part of a route spec (`/user/a/` or `host/user/a/`) or a server URL."""
    if spec_or_url.startswith("/"):
        return spec_or_url
    if "://" in spec_or_url:
        return urlparse(spec_or_url).path
    return "/" + spec_or_url.split("/", 1)[1] if "/" in spec_or_url else "/"


def server_path(server: HubServer) -> str:
    return _path_of(server.url)


def _hub_message(error: HTTPClientError) -> str:
    try:
        body = json.loads(error.response.body) if error.response is not None else {}
    except (ValueError, TypeError):
        body = {}
    message = body.get("message") if isinstance(body, dict) else None
    return f"The hub answered {error.code}: {message or error.message}"
