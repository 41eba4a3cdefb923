"""REST handlers: each one checks the request's shape, calls the engine, writes JSON.

Every verb is `@web.authenticated` + `@authorized` on AUTH_RESOURCE; bodies are checked against
openapi.yaml (shapes.py); engine errors become `{"message": …}` with the status the contract
names (errors.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from .errors import ScrubbedLogs, bad_request, glue_errors, message_of

AUTH_RESOURCE = "glue"

OPENAPI = Path(__file__).with_name("openapi.yaml")
MAX_INT = 2**63 - 1  # SQLite's integers: anything larger is a bad request, not a crash

# Query parameters Jupyter itself reads on any request: credentials, and `no_track_activity`,
# which keeps a poll (the hub portal's listing) from counting as the user's activity.
AUTH_PARAMS = frozenset({"token", "_xsrf", "no_track_activity"})


def parse_count(name: str, value: str | None, minimum: int) -> int | None:
    """A whole number from the query string (None when absent or empty); 400 otherwise."""
    if value in (None, ""):
        return None
    # Plain digits only: int() would also take "+5", "5_000" or other scripts' digits.
    number = int(value) if value.isascii() and value.isdigit() else minimum - 1
    if not minimum <= number <= MAX_INT:
        raise bad_request(f"{name} must be an integer from {minimum} to {MAX_INT}, not {value!r}.")
    return number


class GlueHandler(ScrubbedLogs, APIHandler):
    """Base: the engine handed in as initialize kwargs, JSON errors, body checking."""

    auth_resource = AUTH_RESOURCE
    query_params: tuple[str, ...] = ()  # what this route reads from the query string

    def initialize(self, manager, ready, shapes, kernel_tools=None) -> None:
        self.manager = manager
        self.ready = ready
        self.shapes = shapes
        self.kernel_tools = kernel_tools  # kernel_tool.route.KernelTools

    async def prepare(self) -> None:
        await super().prepare()
        await self.ready()
        if self.current_user:  # strangers get their 403 from @web.authenticated, not a 400
            self.check_query()

    def check_query(self) -> None:
        """A misspelt parameter (`?after=5`) is an error, not silently the default.

        A bare number is let through: JupyterLab's ServerConnection appends `?<timestamp>` to
        GET requests as a cache buster, and every lab extension calling us goes through it.
        """
        unknown = sorted(
            name for name in set(self.request.query_arguments) - set(self.query_params) - AUTH_PARAMS
            if not name.isdigit()
        )
        if unknown:
            accepted = ", ".join(self.query_params) or "none"
            raise bad_request(f"Unknown query parameter(s): {', '.join(unknown)}. Accepted: {accepted}.")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Only {"message"}: never a traceback, whatever went wrong.
        error = kwargs.get("exc_info", (None, None, None))[1]
        message = message_of(error, status_code, self._reason)
        self.set_header("Content-Type", "application/json")
        # send_error cleared the CORS headers prepare() set: an origin the server allows (a
        # widget on another server's page) then reads our words instead of a blind network error.
        self.set_cors_headers()
        self.finish(json.dumps({"message": message}))

    def write_json(self, obj: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(obj))

    def body(self, operation_id: str) -> dict[str, Any]:
        """The JSON object body, checked against the document's schema for `operation_id`."""
        return self.shapes.check(operation_id, self.request.body)

    def query(self, name: str) -> str | None:
        # strip=False: tornado would strip a control character to "", silently "any".
        return self.get_query_argument(name, None, strip=False) or None

    def count(self, name: str, minimum: int) -> int | None:
        return parse_count(name, self.get_query_argument(name, None), minimum)


class InfoHandler(GlueHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        self.write_json(self.manager.info())


class AgentsHandler(GlueHandler):
    query_params = ("refresh",)

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Every agent, checked (started briefly and asked; cached): `?refresh=1` checks again."""
        refresh = self.get_query_argument("refresh", "0")
        if refresh not in ("0", "1", "true", "false"):
            raise bad_request(f"refresh must be 1 or 0 (true or false), not {refresh!r}.")
        self.write_json({"agents": await self.manager.check_agents(refresh=refresh in ("1", "true"))})


class AgentSessionsHandler(GlueHandler):
    """The agent's own sessions for a folder, to adopt one (starts the agent briefly)."""

    query_params = ("cwd",)

    @web.authenticated
    @authorized
    async def get(self, agent: str) -> None:
        with glue_errors():
            sessions = await self.manager.agent_sessions(agent, self.query("cwd"))
        self.write_json({"sessions": sessions})


class SessionsHandler(GlueHandler):
    query_params = ("state", "agent", "q", "sort", "notebook")

    @web.authenticated
    @authorized
    def get(self) -> None:
        with glue_errors():  # the engine checks state (comma-separated) and sort
            sessions = self.manager.list_sessions(
                state=self.query("state"), agent=self.query("agent"), q=self.query("q"),
                sort=self.query("sort") or "activity", notebook=self.query("notebook"),
            )
        # The slots too: a list view (the hub portal) shows "2 of 4 active" with one request.
        info = self.manager.info()
        self.write_json({"sessions": sessions, "active": info["active"], "limit": info["limit"]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        data = self.body("startSession")
        with glue_errors(), self.kernel_tools.granting(data) as bind:  # kernel_id: the kernel tool
            session = await self.manager.start_session(**data)
            bind(session["id"])
        self.write_json(session, status=201)


class SessionHandler(GlueHandler):
    @web.authenticated
    @authorized
    def get(self, session_id: str) -> None:
        with glue_errors():
            self.write_json(self.manager.get(session_id))

    @web.authenticated
    @authorized
    async def patch(self, session_id: str) -> None:
        data = self.body("renameSession")
        with glue_errors():
            self.write_json(await self.manager.rename(session_id, data["title"]))

    @web.authenticated
    @authorized
    async def delete(self, session_id: str) -> None:
        with glue_errors():
            await self.manager.forget(session_id)
        self.set_status(204)
        self.finish()


class SeenHandler(GlueHandler):
    """A view showed the user the session's log (up to `seq`): it no longer needs them for that."""

    @web.authenticated
    @authorized
    async def post(self, session_id: str) -> None:
        data = self.body("markSeen")
        with glue_errors():
            self.write_json(await self.manager.mark_seen(session_id, data.get("seq")))


class ControlHandler(GlueHandler):
    """prompt · interrupt · pause · stop · resume: one engine coroutine each."""

    @web.authenticated
    @authorized
    async def post(self, session_id: str, control: str) -> None:
        data = self.body(control)  # the control's name is its operationId
        with glue_errors():
            session = await getattr(self.manager, control)(session_id, **data)
        self.write_json(session)


class ConfigHandler(GlueHandler):
    """Change the session's mode, model or another option the agent offers."""

    @web.authenticated
    @authorized
    async def post(self, session_id: str) -> None:
        data = self.body("configure")
        with glue_errors():
            self.write_json(await self.manager.configure(session_id, data["option"], data["value"]))


class PermissionHandler(GlueHandler):
    @web.authenticated
    @authorized
    async def post(self, session_id: str, request_id: str) -> None:
        data = self.body("answerPermission")
        with glue_errors():
            session = await self.manager.answer_permission(session_id, request_id, data["option_id"])
        self.write_json(session)


class EventsHandler(GlueHandler):
    query_params = ("after_seq", "limit")

    @web.authenticated
    @authorized
    def get(self, session_id: str) -> None:
        after_seq = self.count("after_seq", 0) or 0
        limit = self.count("limit", 1)
        with glue_errors():
            # last_seq first: events stored meanwhile are then never reported as missing.
            last_seq = self.manager.get(session_id)["last_seq"]
            # Pre-serialised by SQLite: a long transcript is not decoded and re-encoded here.
            events = self.manager.events_json(session_id, after_seq=after_seq, limit=limit)
        if events:
            last_seq = max(last_seq, json.loads(events[-1])["seq"])
        self.set_header("Content-Type", "application/json")
        self.finish('{"events": [%s], "last_seq": %d}' % (",".join(events), last_seq))


class OpenAPIHandler(GlueHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        self.finish(OPENAPI.read_bytes(), set_content_type="application/yaml")


SESSION = r"/api/glue/sessions/(?P<session_id>[^/]+)"
routes = [
    (r"/api/glue/info", InfoHandler),
    (r"/api/glue/agents", AgentsHandler),
    (r"/api/glue/agents/(?P<agent>[^/]+)/sessions", AgentSessionsHandler),
    (r"/api/glue/openapi.yaml", OpenAPIHandler),
    (r"/api/glue/sessions", SessionsHandler),
    (SESSION, SessionHandler),
    (SESSION + r"/(?P<control>prompt|interrupt|pause|stop|resume)", ControlHandler),
    (SESSION + r"/seen", SeenHandler),
    (SESSION + r"/config", ConfigHandler),
    (SESSION + r"/permissions/(?P<request_id>[^/]+)", PermissionHandler),
    (SESSION + r"/events", EventsHandler),
]
