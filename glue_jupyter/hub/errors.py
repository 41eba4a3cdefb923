"""What can go wrong between the portal, the hub and the servers, each with the status the
portal's API answers and a message fit to show."""

from __future__ import annotations


class PortalError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class HubError(PortalError):
    """The hub refused or failed a request."""


class ServerRefused(PortalError):
    """A single-user server answered with an error (its status and its own message)."""


class ServerUnreachable(Exception):
    """No answer from a server: the message says which (it timed out, refused, reset…)."""
