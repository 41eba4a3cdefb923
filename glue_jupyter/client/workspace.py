"""The client's calls for a session's files, queue and forks (docs/contract.md, "Checkpoints,
worktrees, queue and fork"): one mixin over HTTP, one over the embedded engine, same methods."""

from __future__ import annotations

# Controls return once the engine is done (interrupt waits for the turn to end, escalation
# included), so allow well beyond the engine's own timeouts. (http.py uses it too.)
CONTROL_TIMEOUT = 120.0


class HttpWorkspaceCalls:
    """Mixed into GlueClient (needs `_request` and `_session_path`)."""

    def changes(self, session_id, turn) -> dict:
        return self._request("GET", self._session_path(session_id, "turns", turn, "changes"))

    def checkpoints(self, session_id) -> list[dict]:
        return self._request("GET", self._session_path(session_id, "checkpoints"))["checkpoints"]

    def rewind_preview(self, session_id, to_turn=None, to_checkpoint=None) -> dict:
        query = {"to_turn": to_turn, "to_checkpoint": to_checkpoint}
        return self._request("GET", self._session_path(session_id, "rewind"), query=query)

    def rewind(self, session_id, to_turn=None, to_checkpoint=None) -> dict:
        body = {k: v for k, v in (("to_turn", to_turn), ("to_checkpoint", to_checkpoint)) if v is not None}
        return self._request("POST", self._session_path(session_id, "rewind"), body, timeout=CONTROL_TIMEOUT)

    def worktree(self, session_id) -> dict:
        return self._request("GET", self._session_path(session_id, "worktree"))

    def merge(self, session_id) -> dict:
        return self._request("POST", self._session_path(session_id, "worktree", "merge"), {}, timeout=CONTROL_TIMEOUT)

    def discard(self, session_id) -> dict:
        return self._request("POST", self._session_path(session_id, "worktree", "discard"), {},
                             timeout=CONTROL_TIMEOUT)

    def fork(self, session_id, turn=None, title=None, isolate=None) -> dict:
        body = {k: v for k, v in (("turn", turn), ("title", title), ("isolate", isolate)) if v is not None}
        return self._request("POST", self._session_path(session_id, "fork"), body, timeout=CONTROL_TIMEOUT)

    def edit_queued(self, session_id, message_id, text) -> dict:
        return self._request("PATCH", self._session_path(session_id, "queue", message_id), {"text": text})

    def remove_queued(self, session_id, message_id) -> dict:
        return self._request("DELETE", self._session_path(session_id, "queue", message_id))

    def send_queued_now(self, session_id, message_id) -> dict:
        return self._request("POST", self._session_path(session_id, "queue", message_id, "send"), {},
                             timeout=CONTROL_TIMEOUT)


class EmbeddedWorkspaceCalls:
    """Mixed into EmbeddedClient (needs `manager` and `_call`)."""

    def changes(self, session_id, turn) -> dict:
        return self._call(self.manager.workspaces.changes(session_id, int(turn)))

    def checkpoints(self, session_id) -> list[dict]:
        return self._call(self.manager.workspaces.checkpoints(session_id))

    def rewind_preview(self, session_id, to_turn=None, to_checkpoint=None) -> dict:
        return self._call(self.manager.workspaces.rewind_preview(session_id, to_turn, to_checkpoint))

    def rewind(self, session_id, to_turn=None, to_checkpoint=None) -> dict:
        return self._call(self.manager.workspaces.rewind(session_id, to_turn, to_checkpoint))

    def worktree(self, session_id) -> dict:
        return self._call(self.manager.workspaces.worktree(session_id))

    def merge(self, session_id) -> dict:
        return self._call(self.manager.workspaces.merge(session_id))

    def discard(self, session_id) -> dict:
        return self._call(self.manager.workspaces.discard(session_id))

    def fork(self, session_id, turn=None, title=None, isolate=None) -> dict:
        return self._call(self.manager.fork(session_id, turn, title, isolate))

    def edit_queued(self, session_id, message_id, text) -> dict:
        return self._call(self.manager.edit_queued(session_id, message_id, text))

    def remove_queued(self, session_id, message_id) -> dict:
        return self._call(self.manager.remove_queued(session_id, message_id))

    def send_queued_now(self, session_id, message_id) -> dict:
        return self._call(self.manager.send_queued_now(session_id, message_id))
