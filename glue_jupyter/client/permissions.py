"""Permission requests still waiting for an answer, read from a session's transcript."""

from __future__ import annotations

from ..agents.acp_events import option_for
from .errors import GlueClientError


def pending_requests(events: list[dict]) -> list[dict]:
    """The `data` of every permission_request without a permission_answer, oldest first."""
    answered = {e["data"].get("request_id") for e in events if e["kind"] == "permission_answer"}
    return [e["data"] for e in events
            if e["kind"] == "permission_request" and e["data"].get("request_id") not in answered]


def choose_option(request: dict, decision: str) -> str:
    """The request's option id for `allow` or `deny` (the agent's allow_* / reject_* kinds)."""
    options = request.get("options") or []
    chosen = option_for(options, decision)
    if chosen is not None:
        return chosen
    offered = ", ".join(f"{o.get('name')} ({o.get('kind')})" for o in options) or "none"
    raise GlueClientError(f"permission request {request.get('request_id')} offers no {decision} option; "
                          f"its options: {offered}")


def answer(client, session_id: str, decision: str, request_id: str | None = None) -> dict:
    """Allow or deny one waiting request (the oldest if none is named); returns the session."""
    waiting = pending_requests(client.events(session_id))
    if request_id is not None:
        waiting = [r for r in waiting if r.get("request_id") == request_id]
    if not waiting:
        which = f" {request_id}" if request_id else ""
        raise GlueClientError(f"session {session_id} has no permission request{which} waiting for an answer")
    request = waiting[0]
    return client.answer_permission(session_id, request["request_id"], choose_option(request, decision))
