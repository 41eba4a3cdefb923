""""Needs you": when a session waits for its user, as one rule every surface shares.

A session needs its user while a permission request waits for an answer, and after an event
that asks for the user's eyes (a turn that ended on its own, a failure) until the user has seen
it. The engine keeps two sequence numbers per session: `attention_seq`, the last such event,
and `seen_seq`, how far a view has shown the log to the user. Sending a prompt or resuming
counts as having seen everything before it.
"""

from __future__ import annotations

# Turn endings the user did not cause and should look at (cancelled and stopped came from them).
ATTENTION_STOP_REASONS = frozenset({"end_turn", "max_tokens", "max_turn_requests", "refusal", "failed"})

PERMISSION, FAILED, TURN_DONE = "permission", "failed", "turn_done"


def needs_you(row: dict, pending_permissions: int) -> str | None:
    """Why the session needs its user now (permission, failed, turn_done), or None."""
    if pending_permissions:
        return PERMISSION
    if row.get("attention_seq", 0) > row.get("seen_seq", 0):
        return FAILED if row.get("state") == "failed" else TURN_DONE
    return None
