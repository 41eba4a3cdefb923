"""The portal's page and JSON API, authenticated through the hub (OAuth for browsers, tokens for scripts).

Routes, under the service's prefix (e.g. /services/glue/):

    GET  /                                         the page
    GET  api/sessions                              every visible server with its sessions
    POST api/users/{user}[/servers/{name}]/sessions/{id}/{interrupt|pause|stop|resume}
    GET  api/users/{user}[/servers/{name}]/sessions/{id}/permissions     the waiting requests
    POST api/users/{user}[/servers/{name}]/sessions/{id}/permissions/{request_id}  {option_id}
"""

from __future__ import annotations

import json
from typing import Any

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from tornado import web

from .errors import PortalError
from .portal import Caller, Portal
from .servers import session_path

CONTROLS = ("interrupt", "pause", "stop", "resume")
MAX_BODY = 64 * 1024


class PortalHandler(HubOAuthenticated, web.RequestHandler):
    def initialize(self, portal: Portal, settings: dict[str, Any]) -> None:
        self.portal = portal
        self.page_settings = settings

    @property
    def caller(self) -> Caller:
        model = self.current_user
        return Caller(name=model["name"], token=self.hub_auth.get_token(self),
                      scopes=frozenset(model.get("scopes") or ()))


class PageHandler(PortalHandler):
    @web.authenticated
    def get(self) -> None:
        caller = self.caller
        self.set_header("Cache-Control", "no-store")
        self.render("portal.html", user=caller.name, everyone=self.portal.sees_everyone(caller),
                    xsrf=self.xsrf_token.decode() if isinstance(self.xsrf_token, bytes) else self.xsrf_token,
                    **self.page_settings)


class APIHandler(PortalHandler):
    """JSON in, JSON out; errors are `{"message": …}`; no redirects to a login page."""

    def get_login_url(self) -> str:
        raise web.HTTPError(403, "Sign in to JupyterHub first (or send a token with access to this service).")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, web.HTTPError) and error.log_message:
            message = error.log_message % error.args if error.args else error.log_message
        elif status_code >= 500:
            message = "Internal error in the portal; its log has the details."
        else:
            message = self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message}))

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(data))

    def body(self) -> dict[str, Any]:
        raw = self.request.body.strip()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise web.HTTPError(400, "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise web.HTTPError(400, "The request body must be a JSON object.")
        return data

    async def forward(self, user: str, server: str | None, path: str, **kwargs) -> Any:
        try:
            return await self.portal.forward(self.caller, user, server or "", path, **kwargs)
        except PortalError as e:
            raise web.HTTPError(e.status, "%s", e.message) from None


class SessionsAPIHandler(APIHandler):
    @web.authenticated
    async def get(self) -> None:
        timing: dict[str, float] = {}
        try:
            listing = await self.portal.listing(self.caller, timing)
        except PortalError as e:
            raise web.HTTPError(e.status, "%s", e.message) from None
        # Where the time went, for browsers' dev tools and for benchmarks/portal.py.
        self.set_header("Server-Timing", ", ".join(f"{step};dur={seconds * 1000:.1f}"
                                                   for step, seconds in timing.items()))
        self.write_json(listing)


class ControlAPIHandler(APIHandler):
    @web.authenticated
    async def post(self, user: str, server: str | None, session_id: str, control: str) -> None:
        body = self.body()
        self.write_json(await self.forward(user, server, session_path(session_id, control), body=body))


class PermissionsAPIHandler(APIHandler):
    @web.authenticated
    async def get(self, user: str, server: str | None, session_id: str) -> None:
        try:
            requests = await self.portal.pending_permissions(self.caller, user, server or "", session_id)
        except PortalError as e:
            raise web.HTTPError(e.status, "%s", e.message) from None
        self.write_json({"requests": requests})


class AnswerAPIHandler(APIHandler):
    @web.authenticated
    async def post(self, user: str, server: str | None, session_id: str, request_id: str) -> None:
        body = self.body()
        if not isinstance(body.get("option_id"), str) or not body["option_id"]:
            raise web.HTTPError(400, "option_id (a string) is required.")
        path = session_path(session_id, "permissions", request_id)
        self.write_json(await self.forward(user, server, path, body={"option_id": body["option_id"]}))


def routes(prefix: str) -> list[tuple]:
    session = prefix + r"api/users/(?P<user>[^/]+)(?:/servers/(?P<server>[^/]+))?/sessions/(?P<session_id>[^/]+)"
    return [
        (prefix, PageHandler),
        (prefix + "api/sessions", SessionsAPIHandler),
        (session + "/(?P<control>" + "|".join(CONTROLS) + ")", ControlAPIHandler),
        (session + "/permissions", PermissionsAPIHandler),
        (session + r"/permissions/(?P<request_id>[^/]+)", AnswerAPIHandler),
    ]


OAUTH_CALLBACK = HubOAuthCallbackHandler
