"""The workspace room: what a session does to its folder, kept so it can be reviewed and undone.

Checkpoints per turn (git trees on private refs, taken through a private index: the user's
branch, index, stash and files are never touched), the changes of each turn, rewind to any
checkpoint (crash-safe: plan, apply, mark done), and a git worktree per session with merge
and discard. Everything goes through the `git` command line. Knows nothing of sessions'
state machine, Jupyter or HTTP: the engine calls it at turn start and end and on request.
"""

from .git import GitError, git_available
from .journal import Journal
from .snapshot import Limits
from .workspace import BadCheckpointName, NoCheckpoint, Settings, Workspace, WorkspaceError, checkpoint_label

__all__ = ["BadCheckpointName", "GitError", "Journal", "Limits", "NoCheckpoint", "Settings", "Workspace", "WorkspaceError",
           "checkpoint_label", "git_available"]
