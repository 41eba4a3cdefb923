"""Client-side tools: work glue does on an agent's behalf (run code in a notebook's kernel),
gated and recorded like the agent's own tool calls.

A surface (the server layer's kernel tool) calls ``manager.run_client_tool`` while a turn is
running. The call is recorded as a ``tool_call`` of that turn, goes through the permission
policy (under ``ask`` a ``permission_request`` the user answers like any other), runs, and
its outcome is recorded as the call's ``tool_call_update``. Interrupting or stopping the turn
cancels what is still running — the runner cancelled is expected to stop its work (the kernel
tool interrupts the kernel execution it started) — and, as for everything else in an
interrupted turn, nothing more is recorded. The engine never learns what the tool does.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable

from ..agents.acp_events import permission_request
from .errors import GlueError

if TYPE_CHECKING:
    from .session import Session

OPTIONS = [{"optionId": "allow", "name": "Allow", "kind": "allow_once"},
           {"optionId": "deny", "name": "Deny", "kind": "reject_once"}]


@dataclass
class ToolOutcome:
    """What a runner returns: the text the agent and the transcript get, and whether it failed."""
    text: str
    failed: bool = False
    raw_output: dict | None = None


class ToolRefused(GlueError):
    """The call did not run: no turn, the user or the policy said no, or the turn was interrupted."""


class ClientTools:
    def __init__(self, session: Session):
        self.session = session
        self._running: set[asyncio.Task] = set()

    async def run(self, title: str, kind: str, raw_input: dict,
                  runner: Callable[[], Awaitable[ToolOutcome]]) -> ToolOutcome:
        session = self.session
        turn = session.turn
        if turn is None or turn.cancelled:
            raise ToolRefused(f"Session {session.id} has no turn running: tools run only inside one.")
        call_id = f"glue-{uuid.uuid4().hex[:12]}"
        call = {"toolCallId": call_id, "title": title, "kind": kind, "status": "pending", "rawInput": raw_input}
        session._record("tool_call", {"tool_call_id": call_id, "title": title, "kind": kind, "status": "pending",
                                      "content": [], "locations": [], "raw_input": raw_input}, turn.number)
        allowed = await self._permission(call, turn.number)
        if turn.cancelled:
            raise ToolRefused("The turn was interrupted.")
        if not allowed:
            self._update(call_id, turn.number, "failed", "Not run: permission was denied.")
            raise ToolRefused("Permission to run it was denied.")
        self._update(call_id, turn.number, "in_progress")
        task = asyncio.ensure_future(runner())
        self._running.add(task)
        try:
            outcome = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled() or turn.cancelled:
                raise ToolRefused("The turn was interrupted; its kernel execution was stopped.") from None
            raise
        except Exception as exc:
            outcome = ToolOutcome(f"The tool failed: {exc}", failed=True)
        finally:
            self._running.discard(task)
        if not turn.cancelled:  # an interrupted turn records nothing more
            self._update(call_id, turn.number, "failed" if outcome.failed else "completed", outcome.text,
                         outcome.raw_output)
        return outcome

    async def _permission(self, call: dict, turn: int) -> bool:
        """Ask per the permission policy; True when allowed."""
        session = self.session
        request_id = f"glue-{uuid.uuid4().hex[:12]}"
        data = permission_request(request_id, {"toolCall": call, "options": OPTIONS})
        session._record("permission_request", data, turn)
        policy = session.config.permission_policy
        if policy != "ask":
            chosen = "allow" if policy == "allow" else "deny"
            session._record("permission_answer", {"request_id": request_id, "outcome": "selected",
                                                  "option_id": chosen, "by": "policy"}, turn)
            return chosen == "allow"
        from .session import PendingPermission

        answer = asyncio.get_running_loop().create_future()
        session.permissions[request_id] = PendingPermission(answer, [o["optionId"] for o in OPTIONS])
        session.log.flush()
        session._notify()
        return await answer == "allow"

    def _update(self, call_id: str, turn: int, status: str, text: str | None = None,
                raw_output: dict | None = None) -> None:
        data = {"tool_call_id": call_id, "status": status}
        if text is not None:
            data["content"] = [{"type": "text", "text": text}]
        if raw_output is not None:
            data["raw_output"] = raw_output
        self.session._record("tool_call_update", data, turn)
        self.session.log.flush()

    def cancel_all(self) -> None:
        """The turn is being interrupted or stopped: stop what still runs."""
        for task in list(self._running):
            task.cancel()


def deliver(pending_raw_id, option_id: str | None) -> bool:
    """Answer a permission request of ours (its raw id is the future we wait on); False when
    the request is the agent's."""
    if isinstance(pending_raw_id, asyncio.Future):
        if not pending_raw_id.done():
            pending_raw_id.set_result(option_id)
        return True
    return False
