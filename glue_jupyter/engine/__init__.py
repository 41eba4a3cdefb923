"""The engine: sessions, their state machine, the event log and the store. No Jupyter, no HTTP."""

from .config import EngineConfig
from .errors import (
    AgentNotInstalled,
    FolderNotAllowed,
    GlueError,
    IllegalControl,
    InvalidRequest,
    NoFreeSlot,
    StoreFailed,
    UnknownAgent,
    UnknownPermissionRequest,
    UnknownSession,
)
from .events import SubscriberTooSlow
from .manager import SessionManager
from .states import State

__all__ = [
    "AgentNotInstalled", "EngineConfig", "FolderNotAllowed", "GlueError", "IllegalControl", "InvalidRequest", "NoFreeSlot",
    "SessionManager", "State", "StoreFailed", "SubscriberTooSlow", "UnknownAgent", "UnknownPermissionRequest",
    "UnknownSession",
]
