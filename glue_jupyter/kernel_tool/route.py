"""Grants and the route the kernel tool's MCP server calls.

A grant ties one session to one kernel of this server. It is made when a session is started
with ``kernel_id`` (the magics send it for ``--kernel``) and travels to the agent only inside
its MCP server's environment. The route is authenticated by that grant, not by Jupyter's own
credentials: the agent must never hold the user's token (it could then drive the whole
server), only the right to run code in this one kernel, for this one session, through the
session's permission policy and transcript.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import secrets
import sys
from dataclasses import dataclass
from typing import Callable

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..engine.client_tools import ToolRefused
from ..engine.errors import GlueError, UnknownSession
from ..server.errors import message_of
from ..server.shapes import parse as parse_body
from .executor import run_code

SCHEME = "glue-tool"
TITLE = "Run in the notebook's kernel"


def title_of(code: str) -> str:
    """The tool call's title: what a permission request shows, so the code's gist is in it."""
    lines = [line.strip() for line in code.strip().splitlines() if line.strip()]
    gist = lines[0] if lines else "(nothing)"
    gist = gist if len(gist) <= 60 else gist[:59] + "…"
    more = f" (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
    return f"{TITLE}: {gist}{more}"


@dataclass
class Grant:
    token: str
    kernel_id: str
    session_id: str | None = None


class KernelTools:
    """The grants of this server, and running code for them."""

    def __init__(self, manager, kernel_manager, server_url: Callable[[], str], timeout: float):
        self.manager = manager
        self.kernel_manager = kernel_manager
        self.server_url = server_url  # read when granting: the port is known only once bound
        self.timeout = timeout
        self._grants: list[Grant] = []

    def grant(self, kernel_id: str) -> tuple[Grant, list[dict]]:
        """A grant for `kernel_id` and the ACP mcpServers entry carrying it; KeyError for a
        kernel this server does not run."""
        if kernel_id not in self.kernel_manager:
            raise KeyError(kernel_id)
        grant = Grant(secrets.token_urlsafe(32), kernel_id)
        self._grants.append(grant)
        server = {"name": "glue-kernel", "command": sys.executable, "args": ["-m", "glue_jupyter.kernel_tool"],
                  "env": [{"name": "GLUE_KERNEL_TOOL_URL", "value": self.server_url()},
                          {"name": "GLUE_KERNEL_TOOL_TOKEN", "value": grant.token}]}
        return grant, [server]

    @contextlib.contextmanager
    def granting(self, start: dict):
        """Around starting a session: a `kernel_id` in the start request becomes a grant and the
        session's mcp_servers; the grant is bound to the session started, revoked if none is.
        Yields the function that binds it."""
        kernel_id = start.pop("kernel_id", None)
        if kernel_id is None:
            yield lambda session_id: None
            return
        try:
            grant, start["mcp_servers"] = self.grant(kernel_id)
        except KeyError:
            raise web.HTTPError(400, f"No kernel {kernel_id} runs on this server: the kernel tool is for a "
                                     "notebook's own kernel (%glue start --kernel).") from None

        def bind(session_id: str) -> None:
            grant.session_id = session_id

        try:
            yield bind
        finally:
            if grant.session_id is None:
                self.revoke(grant)

    def revoke(self, grant: Grant) -> None:
        if grant in self._grants:
            self._grants.remove(grant)

    def find(self, token: str) -> Grant | None:
        found = None
        for grant in self._grants:  # compare with every grant: no early exit to time
            if hmac.compare_digest(grant.token, token) and grant.session_id is not None:
                found = grant
        return found

    async def run(self, grant: Grant, code: str):
        kernel = self.kernel_manager.get_kernel(grant.kernel_id)
        return await self.manager.run_client_tool(
            grant.session_id, title_of(code), "execute", {"code": code}, lambda: run_code(kernel, code, self.timeout))


class KernelToolHandler(APIHandler):
    """POST api/glue/kernel-tool {code} with ``Authorization: glue-tool <grant>``."""

    def initialize(self, tools: KernelTools, ready) -> None:
        self.tools = tools
        self.ready = ready

    def check_xsrf_cookie(self) -> None:
        """No cookie is involved: the grant in the header is the credential."""

    async def prepare(self) -> None:
        await super().prepare()
        await self.ready()

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        message = message_of(error, status_code, self._reason)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message}))

    @allow_unauthenticated  # the grant authenticates (see the module's doc)
    async def post(self) -> None:
        scheme, _, token = (self.request.headers.get("Authorization") or "").partition(" ")
        grant = self.tools.find(token.strip()) if scheme == SCHEME else None
        if grant is None:
            raise web.HTTPError(403, "No valid kernel tool grant: the session was not started with --kernel.")
        body = parse_body(self.request.body)  # the same size and depth limits as every glue route
        if not isinstance(body, dict) or not isinstance(body.get("code"), str) or set(body) != {"code"}:
            raise web.HTTPError(400, "The body must be {\"code\": \"...\"}.")
        if grant.kernel_id not in self.tools.kernel_manager:
            raise web.HTTPError(409, "The notebook's kernel is gone (shut down or not restarted).")
        try:
            outcome = await self.tools.run(grant, body["code"])
        except UnknownSession:
            self.tools.revoke(grant)  # the session was forgotten: so is its grant
            raise web.HTTPError(404, "The session this grant was for is gone.") from None
        except (ToolRefused, GlueError) as refused:
            raise web.HTTPError(409, str(refused)) from None
        self.finish(json.dumps({"text": outcome.text, "failed": outcome.failed}))


routes = [(r"/api/glue/kernel-tool", KernelToolHandler)]
