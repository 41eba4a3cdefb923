"""Errors the engine raises for bad requests. Each message is meant for the user, as is."""

from __future__ import annotations


SHORT_ID = 8  # what lists show; any unique prefix is accepted where an id is typed


def session_label(session_id: str, title: str | None = None) -> str:
    """How messages name a session: its title and the short id lists show."""
    short = session_id[:SHORT_ID]
    return f"“{title}” ({short})" if title else f"session {short}"


class GlueError(Exception):
    """Base of every error a surface should show to the user verbatim."""

    @property
    def message(self) -> str:
        return str(self)


class InvalidRequest(GlueError):
    """The request itself is malformed (missing field, wrong value)."""


class UnknownSession(GlueError):
    def __init__(self, session_id: str):
        super().__init__(f"No session with id {session_id!r}.")
        self.session_id = session_id


class UnknownAgent(GlueError):
    def __init__(self, name: str, known: list[str]):
        super().__init__(f"No agent named {name!r}. Known agents: {', '.join(sorted(known))}.")
        self.name = name


class AgentNotInstalled(GlueError):
    def __init__(self, name: str, hint: str):
        super().__init__(f"Agent {name!r} is not installed. {hint}")
        self.name = name


class IllegalControl(GlueError):
    def __init__(self, session_id: str, control: str, state: str, advice: str = "", title: str | None = None):
        being = "it has failed" if state == "failed" else f"it is {state}"
        text = f"Cannot {control} {session_label(session_id, title)}: {being}."
        super().__init__(f"{text} {advice}".strip())
        self.session_id, self.control, self.state = session_id, control, state


class NoFreeSlot(GlueError):
    def __init__(self, limit: int, active: list[tuple[str, str, str]]):
        listed = "; ".join(f"{sid[:SHORT_ID]} ({title or 'untitled'}, {state})" for sid, title, state in active)
        super().__init__(
            f"All {limit} session slots are in use by: {listed}. "
            "Pause or stop one of them, then try again."
        )
        self.limit = limit


class UnknownPermissionRequest(GlueError):
    def __init__(self, session_id: str, request_id: str):
        super().__init__(
            f"Session {session_id[:SHORT_ID]} has no pending permission request {request_id!r} "
            "(it may have been answered or withdrawn already)."
        )


class InvalidOption(InvalidRequest):
    pass


class ModeRefused(GlueError):
    """A mode that would let the agent act without asking, under a policy that forbids it."""

    def __init__(self, agent: str, mode: str, policy: str, allowed: list[str]):
        others = f"Choose another mode ({', '.join(allowed)}), or" if allowed else "Either"
        super().__init__(
            f"Mode {mode!r} lets {agent} write files or run commands without asking you, which the "
            f"permission policy {policy!r} forbids. {others} set c.GlueApp.permission_policy = "
            "\"allow\" to let agents act on their own."
        )
        self.mode = mode


class AgentFailed(GlueError):
    """The agent could not do what was asked (refused a value, failed to list its sessions)."""


class FolderNotAllowed(GlueError):
    """A session folder outside the root directory and every allowed root."""

    def __init__(self, folder, roots: list, knob: str):
        where = " or ".join(str(r) for r in roots)
        super().__init__(
            f"Folder {folder} is outside {where}: sessions may only work inside "
            f"{'it' if len(roots) == 1 else 'them'}. Pick a folder there, or allow more with {knob}."
        )
        self.folder = folder


class StoreFailed(GlueError):
    """The sessions database refused a write (disk full, I/O error): the control changed nothing."""

    def __init__(self, session_id: str, reason: str):
        super().__init__(
            f"Session {session_id[:SHORT_ID]} cannot be saved: the sessions database refused to write "
            f"({reason}). "
            "Nothing was changed; free some space (or repair the database) and try again."
        )
        self.session_id = session_id


class UnknownCheckpoint(GlueError):
    """A turn or checkpoint a session has no snapshot of (engine/workspace)."""


class WorkspaceConflict(GlueError):
    """A workspace operation refused because of the folder's state: another session running in
    it, a merge conflict, no worktree, no git repository."""
