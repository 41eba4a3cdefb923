"""REST handlers for what a session does to its files, and for its queue and forks.

Changes per turn, checkpoints, rewind (preview with GET, act with POST), the worktree with
merge and discard, queued messages (edit, remove, send now) and fork. Same conventions as
handlers.py: `@web.authenticated` + `@authorized` on every verb, bodies checked against
openapi.yaml by operationId, engine errors mapped by errors.py.
"""

from __future__ import annotations

from tornado import web
from jupyter_server.auth.decorator import authorized

from .errors import glue_errors
from .handlers import SESSION, GlueHandler, parse_count


class ChangesHandler(GlueHandler):
    @web.authenticated
    @authorized
    async def get(self, session_id: str, turn: str) -> None:
        number = parse_count("turn", turn, 1)
        with glue_errors():
            self.write_json(await self.manager.workspaces.changes(session_id, number))


class CheckpointsHandler(GlueHandler):
    @web.authenticated
    @authorized
    async def get(self, session_id: str) -> None:
        with glue_errors():
            self.write_json({"checkpoints": await self.manager.workspaces.checkpoints(session_id)})


class RewindHandler(GlueHandler):
    query_params = ("to_turn", "to_checkpoint")

    @web.authenticated
    @authorized
    async def get(self, session_id: str) -> None:
        """What a rewind would change, file by file: nothing is touched."""
        to_turn = self.count("to_turn", 1)
        with glue_errors():
            preview = await self.manager.workspaces.rewind_preview(
                session_id, to_turn=to_turn, to_checkpoint=self.query("to_checkpoint"))
        self.write_json(preview)

    @web.authenticated
    @authorized
    async def post(self, session_id: str) -> None:
        data = self.body("rewind")
        with glue_errors():
            self.write_json(await self.manager.workspaces.rewind(session_id, **data))


class WorktreeHandler(GlueHandler):
    @web.authenticated
    @authorized
    async def get(self, session_id: str) -> None:
        with glue_errors():
            self.write_json(await self.manager.workspaces.worktree(session_id))


class WorktreeActionHandler(GlueHandler):
    """merge · discard"""

    @web.authenticated
    @authorized
    async def post(self, session_id: str, action: str) -> None:
        self.body(f"{action}Worktree")
        with glue_errors():
            self.write_json(await getattr(self.manager.workspaces, action)(session_id))


class QueuedMessageHandler(GlueHandler):
    @web.authenticated
    @authorized
    async def patch(self, session_id: str, message_id: str) -> None:
        data = self.body("editQueuedMessage")
        with glue_errors():
            self.write_json(await self.manager.edit_queued(session_id, message_id, data["text"]))

    @web.authenticated
    @authorized
    async def delete(self, session_id: str, message_id: str) -> None:
        with glue_errors():
            self.write_json(await self.manager.remove_queued(session_id, message_id))


class SendQueuedHandler(GlueHandler):
    @web.authenticated
    @authorized
    async def post(self, session_id: str, message_id: str) -> None:
        self.body("sendQueuedMessageNow")
        with glue_errors():
            self.write_json(await self.manager.send_queued_now(session_id, message_id))


class ForkHandler(GlueHandler):
    @web.authenticated
    @authorized
    async def post(self, session_id: str) -> None:
        data = self.body("fork")
        with glue_errors():
            self.write_json(await self.manager.fork(session_id, **data), status=201)


MESSAGE = SESSION + r"/queue/(?P<message_id>[^/]+)"
routes = [
    (SESSION + r"/turns/(?P<turn>[^/]+)/changes", ChangesHandler),
    (SESSION + r"/checkpoints", CheckpointsHandler),
    (SESSION + r"/rewind", RewindHandler),
    (SESSION + r"/worktree", WorktreeHandler),
    (SESSION + r"/worktree/(?P<action>merge|discard)", WorktreeActionHandler),
    (MESSAGE, QueuedMessageHandler),
    (MESSAGE + r"/send", SendQueuedHandler),
    (SESSION + r"/fork", ForkHandler),
]
