"""Engine errors to HTTP status codes (one table, one context manager), and error logs that
never carry a credential."""

from __future__ import annotations

import contextlib
import re

from tornado.log import app_log
from tornado.web import HTTPError

from ..engine.errors import (
    AgentFailed,
    AgentNotInstalled,
    FolderNotAllowed,
    GlueError,
    IllegalControl,
    InvalidRequest,
    ModeRefused,
    NoFreeSlot,
    StoreFailed,
    UnknownAgent,
    UnknownPermissionRequest,
    UnknownSession,
)
from ..engine.errors import UnknownCheckpoint, WorkspaceConflict
from ..engine.queue import UnknownQueuedMessage

# Most specific first: subclasses (e.g. InvalidOption < InvalidRequest) match their base.
STATUS = (
    (InvalidRequest, 400),
    (FolderNotAllowed, 403),
    (UnknownSession, 404),
    (UnknownAgent, 404),
    (UnknownPermissionRequest, 404),
    (UnknownCheckpoint, 404),
    (UnknownQueuedMessage, 404),
    (WorkspaceConflict, 409),
    (IllegalControl, 409),
    (NoFreeSlot, 409),
    (AgentNotInstalled, 409),
    (ModeRefused, 409),
    (AgentFailed, 409),  # the agent could not do it (refused a value, an unknown session to adopt)
    (StoreFailed, 503),  # the database refused to write (disk full): nothing was changed
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


# Query parameters whose value is a secret, the way jupyter_server's access log judges them.
SECRET_PARAM = re.compile(r"((?:^|&)[^=&]*(?:token|xsrf|auth|key|code|state)[^=&]*=)[^&]*", re.IGNORECASE)


def scrub(uri: str) -> str:
    """`/api/glue/x?token=abc&after_seq=3` -> `/api/glue/x?token=[secret]&after_seq=3`."""
    path, mark, query = uri.partition("?")
    return path + mark + SECRET_PARAM.sub(r"\1[secret]", query)


class ScrubbedLogs:
    """Tornado logs the full request URI with every error (`400 GET /api/glue/…?token=… (ip):
    …`, and the whole request on a crash); jupyter_server scrubs its access log but not these.
    Handlers that mix this in log the URI scrubbed, and never the request object itself."""

    def _request_summary(self) -> str:
        return f"{self.request.method} {scrub(self.request.uri)} ({self.request.remote_ip})"

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, HTTPError):
            super().log_exception(typ, value, tb)  # a warning built from _request_summary
        else:
            app_log.error("Uncaught exception %s", self._request_summary(), exc_info=(typ, value, tb))
