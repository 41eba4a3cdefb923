"""The client's exceptions: each carries a message fit to show a user as is."""


class GlueClientError(Exception):
    """Base of every error the client raises on purpose."""


class NoServerFound(GlueClientError):
    """No Jupyter server to talk to; the message says how to get one."""


class ServerError(GlueClientError):
    """The server refused a request; ``str()`` is the server's own message."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status
