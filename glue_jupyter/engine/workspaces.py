"""Every session's Workspace (engine/workspace/), and the controls that act on files.

Attaches a Workspace to each session, finishes or rolls back at open whatever a crash left
half done, and guards each control against the agents: a rewind, merge or discard is refused
while the session's turn runs, or while any other session runs in the same folder, with a
message that says which and what to do. The workspace room itself knows nothing of states.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from .errors import IllegalControl, InvalidRequest, UnknownCheckpoint, WorkspaceConflict, session_label
from .states import State
from .workspace import BadCheckpointName, GitError, Journal, Limits, NoCheckpoint, Settings, Workspace, WorkspaceError

log = logging.getLogger(__name__)
RUNNING = (State.STARTING, State.RUNNING, State.INTERRUPTING)


class FolderBusy(IllegalControl):
    def __init__(self, session, control: str, other) -> None:
        text = (f"Cannot {control} {session_label(session.id, session.row['title'])}: "
                f"{session_label(other.id, other.row['title'])} is {other.state.value} in the same folder, "
                f"{other.row['cwd']}. Wait for its turn to end or interrupt it, then try again.")
        super(IllegalControl, self).__init__(text)
        self.session_id, self.control, self.state = session.id, control, other.state.value


def settings_from(config) -> Settings:
    return Settings(root=config.data_dir / "workspaces", worktrees_dir=config.worktrees_dir,
                    limits=Limits(max_file_bytes=int(config.checkpoint_max_file_mb * 1024 * 1024),
                                  max_new_files=config.checkpoint_max_new_files),
                    checkpoints=config.checkpoints,
                    # The engine's database and data may sit inside a session's folder (a server
                    # started in the project): snapshots must never contain them.
                    private=[config.data_dir, config.db_path, config.db_path.with_name(config.db_path.name + "-wal"),
                             config.db_path.with_name(config.db_path.name + "-shm")])


class Workspaces:
    def __init__(self, manager):
        self.manager = manager
        self.settings = settings_from(manager.config)
        self.journal: Journal | None = None

    # lifecycle ------------------------------------------------------------------------

    def open(self, store) -> None:
        self.journal = Journal(store.db)

    async def recover(self) -> None:
        """Finish (or roll back) what a crash left half done."""
        for op in self.journal.unfinished():
            session = self.manager.sessions.get(op["session_id"])
            if session is None:
                self.journal.finish(op["id"], "abandoned")
                continue
            await session.workspace.recover(op)
            session.log.flush()

    def attach(self, session) -> Workspace:
        session.workspace = Workspace(session.id, session.row["cwd"], self.journal, self.settings,
                                      session._record)
        return session.workspace

    def prepare(self, session_id: str, folder: Path) -> Workspace:
        """A Workspace for a session about to be created (its worktree is made first)."""
        return Workspace(session_id, folder, self.journal, self.settings, lambda *args: None)

    async def close(self) -> None:
        for session in self.manager.sessions.values():
            if session.workspace is not None:
                await session.workspace.settle()

    async def forget(self, session) -> None:
        if session.workspace is None:
            return
        sharing = any(Path(other.row["cwd"]) == Path(session.row["cwd"]) for other in self.manager.sessions.values()
                      if other is not session)
        try:
            done = await session.workspace.forget(folder_shared=sharing)
        except Exception as exc:  # forgetting the transcript must not fail on a broken repository
            log.warning("glue_jupyter: cleaning up the workspace of %s failed: %s", session.id, exc)
            return
        log.info("glue_jupyter: forgot the workspace of %s: %s", session.id, done)

    async def guarded(self, awaitable):
        """Await a workspace call, its errors turned into the engine's."""
        with _errors():
            return await awaitable

    # reading --------------------------------------------------------------------------

    async def changes(self, session_id: str, turn: int) -> dict:
        session = self.manager.session(session_id)
        if not isinstance(turn, int) or isinstance(turn, bool) or not 1 <= turn <= session.row["turns"]:
            raise UnknownCheckpoint(f"Session {session_id} has no turn {turn!r} (it has {session.row['turns']}).")
        with _errors():
            return await session.workspace.changes(turn)

    async def checkpoints(self, session_id: str) -> list[dict]:
        session = self.manager.session(session_id)
        with _errors():
            return await session.workspace.checkpoints()

    async def worktree(self, session_id: str) -> dict:
        session = self.manager.session(session_id)
        with _errors():
            return await session.workspace.worktree_status()

    # acting on files ------------------------------------------------------------------

    async def rewind_preview(self, session_id: str, to_turn=None, to_checkpoint=None) -> dict:
        session = self.manager.session(session_id)
        with _errors():
            return await session.workspace.rewind_preview(_target(to_turn, to_checkpoint))

    async def rewind(self, session_id: str, to_turn=None, to_checkpoint=None) -> dict:
        name = _target(to_turn, to_checkpoint)
        return await self._act(session_id, "rewind the files of", "rewind", lambda w, s: w.rewind(name))

    async def merge(self, session_id: str) -> dict:
        return await self._act(session_id, "merge the worktree of", "merge", lambda w, s: w.merge(s.row["title"]))

    async def discard(self, session_id: str) -> dict:
        return await self._act(session_id, "discard the worktree of", "discard", lambda w, s: w.discard())

    async def _act(self, session_id: str, control: str, key: str, operation) -> dict:
        """Run a workspace operation as a control of the session (one at a time with the others,
        a prompt meanwhile waits for it), only while nothing may be writing in the folder."""
        session = self.manager.session(session_id)
        async with session.control(control):
            if session.state is State.PAUSED and session._paused_from is not State.IDLE:
                raise IllegalControl(session.id, control, "paused in the middle of a turn",
                                     "Resume it and let the turn end, or interrupt it first.", session.row["title"])
            mine = Path(session.row["cwd"])
            for other in self.manager.sessions.values():
                if other is not session and other.state in RUNNING and _overlap(mine, Path(other.row["cwd"])):
                    raise FolderBusy(session, control, other)
            with _errors():
                result = await operation(session.workspace, session)
            session.log.flush()
            session._notify()
        await session.send_queued()   # messages queued meanwhile
        return {key: result, "session": session.snapshot()}


def _target(to_turn, to_checkpoint) -> str:
    if (to_turn is None) == (to_checkpoint is None):
        raise InvalidRequest("Say where to rewind to: to_turn (files as they were before that turn) "
                             "or to_checkpoint (a checkpoint's name), not both.")
    if to_turn is not None:
        if not isinstance(to_turn, int) or isinstance(to_turn, bool) or to_turn < 1:
            raise InvalidRequest(f"to_turn must be a turn number (1 or more), not {to_turn!r}.")
        return f"turn-{to_turn}-before"
    if not isinstance(to_checkpoint, str) or not to_checkpoint:
        raise InvalidRequest("to_checkpoint must be a checkpoint name such as turn-3-after or rewind-1.")
    return to_checkpoint


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


@contextlib.contextmanager
def _errors():
    """The room's errors as the engine's (which the server maps to 404 / 409)."""
    try:
        yield
    except NoCheckpoint as exc:
        raise UnknownCheckpoint(str(exc)) from None
    except BadCheckpointName as exc:
        raise InvalidRequest(str(exc)) from None
    except (WorkspaceError, GitError) as exc:
        raise WorkspaceConflict(str(exc)) from None
    except OSError as exc:
        raise WorkspaceConflict(f"The folder could not be read or written: {exc}") from None
