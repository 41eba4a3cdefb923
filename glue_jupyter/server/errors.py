"""Engine errors to HTTP status codes: one table, one context manager."""

from __future__ import annotations

import contextlib

from tornado.web import HTTPError

from ..engine.errors import (
    AgentFailed,
    AgentNotInstalled,
    GlueError,
    IllegalControl,
    InvalidRequest,
    ModeRefused,
    NoFreeSlot,
    UnknownAgent,
    UnknownPermissionRequest,
    UnknownSession,
)

# Most specific first: subclasses (e.g. InvalidOption < InvalidRequest) match their base.
STATUS = (
    (InvalidRequest, 400),
    (UnknownSession, 404),
    (UnknownAgent, 404),
    (UnknownPermissionRequest, 404),
    (IllegalControl, 409),
    (NoFreeSlot, 409),
    (AgentNotInstalled, 409),
    (ModeRefused, 409),
    (AgentFailed, 502),
)


def status_of(error: GlueError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 400  # a GlueError we do not know yet is still the user's request, not our crash


def bad_request(message: str) -> HTTPError:
    # "%s" so a message holding a '%' survives tornado's log formatting.
    return HTTPError(400, "%s", message)


@contextlib.contextmanager
def glue_errors():
    """Re-raise an engine error as the HTTPError the API promises, with the engine's message."""
    try:
        yield
    except GlueError as e:
        raise HTTPError(status_of(e), "%s", e.message) from None


def message_of(error: BaseException | None, status: int, reason: str) -> str:
    if isinstance(error, HTTPError) and error.log_message:
        return error.log_message % error.args if error.args else error.log_message
    if status >= 500:
        return "Internal server error; the server log has the details."
    return reason
