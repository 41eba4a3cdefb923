"""One session's Workspace: its checkpoints, the changes of each turn, rewinds, its worktree.

Checkpoints are named refs under `refs/glue/<session>/`:
  turn-N-before, turn-N-after   the folder just before the prompt went out / when the turn ended
  rewind-K                      the folder just before rewind K (so a rewind can be undone)
  discard-K                     the worktree just before discard K
The session reports what happens through `record(kind, data, turn)`; nothing here raises into
a turn: a checkpoint that cannot be taken becomes a notice, and the turn goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import worktree as worktrees
from .changes import FileChange, diff_trees, summarize
from .git import Git, GitError, git_available
from .journal import Journal
from .location import locate
from .rewind import Step, apply_steps, plan
from .snapshot import Limits, Snapshot, SnapshotTooLarge, Snapshotter

FILES_IN_EVENT = 200
IGNORED_NOTE = ("Files ignored by .gitignore, submodules, and untracked folders too crowded to copy are not "
                "checkpointed, so they are not shown or rewound.")
CHECKPOINT_NAME = re.compile(r"^(turn-\d+-(before|after)|rewind-\d+|discard-\d+)$")


class WorkspaceError(Exception):
    """A workspace request that cannot be done; the message is for the user as is."""


class NoCheckpoint(WorkspaceError):
    pass


class BadCheckpointName(WorkspaceError):
    pass


@dataclass
class Settings:
    root: Path                      # <data_dir>/workspaces: private indexes, shadow repositories
    worktrees_dir: Path             # where session worktrees are created
    limits: Limits = field(default_factory=Limits)
    checkpoints: bool = True
    private: list[Path] = field(default_factory=list)   # glue's own files: never in a snapshot

    @property
    def shadow_root(self) -> Path:
        return self.root / "folders"

    @property
    def all_private(self) -> list[Path]:
        return [self.root, self.worktrees_dir, *self.private]


Record = Callable[[str, dict, "int | None"], None]


class Workspace:
    def __init__(self, session_id: str, folder: str | Path, journal: Journal, settings: Settings,
                 record: Record):
        self.session_id = session_id
        self.folder = Path(folder)
        self.journal = journal
        self.settings = settings
        self.record = record
        self.data: dict = journal.load(session_id) or {}
        self.lock = asyncio.Lock()
        self.operation: str | None = None   # "rewinding" | "merging" | "discarding" while one runs
        self._snapshotter: Snapshotter | None = None

    # what surfaces show ---------------------------------------------------------------

    def describe(self) -> dict:
        tree = self.data.get("worktree")
        return {
            "checkpoints": self.data.get("location", {}).get("kind") if not self.data.get("unavailable") else None,
            "checkpoints_unavailable": self.data.get("unavailable"),
            "worktree": {k: tree[k] for k in ("path", "branch", "base", "base_commit")} if tree else None,
            "forked_from": self.data.get("forked_from"),
            "forks": self.data.get("forks", []),
            "operation": self.operation,
        }

    def _save(self) -> None:
        self.journal.save(self.session_id, self.data)

    def ref(self, name: str) -> str:
        return f"refs/glue/{self.session_id}/{name}"

    # checkpoints ----------------------------------------------------------------------

    async def snapshotter(self) -> Snapshotter:
        if self._snapshotter is not None:
            return self._snapshotter
        if self.data.get("unavailable"):
            raise NoCheckpoint(self.data["unavailable"])
        if not self.settings.checkpoints:
            raise NoCheckpoint("Checkpoints are turned off (c.GlueApp.checkpoints = False).")
        if not git_available():
            raise NoCheckpoint("Checkpoints need git, and no `git` command was found on this server.")
        location = await locate(self.folder, self.settings.shadow_root, self.settings.all_private)
        location.private.extend(self.data.get("left_out", []))   # crowded untracked folders, see snapshot.py
        self._snapshotter = Snapshotter(location, self.settings.root / self.session_id / "index",
                                        self.settings.limits)
        if self.data.get("location") != location.describe():
            self.data["location"] = location.describe()
            self._save()
        return self._snapshotter

    async def _take(self, name: str | None, message: str) -> Snapshot:
        snapshotter = await self.snapshotter()
        try:
            snapshot = await snapshotter.take(self.ref(name) if name else None, message)
        except SnapshotTooLarge as exc:
            self.data["unavailable"] = str(exc)
            self._snapshotter = None
            self._save()
            raise NoCheckpoint(str(exc)) from None
        if snapshot.left_out:
            self.data.setdefault("left_out", []).extend(snapshot.left_out)
            self._save()
            shown = ", ".join(f"{folder}/" for folder in snapshot.left_out[:5])
            self.record("notice", {"level": "info", "text": (
                f"Left out of checkpoints from now on: {shown} (untracked folders with too many files to copy; "
                "add them to .gitignore, or commit them, to silence this).")}, None)
        if name:
            self.data.setdefault("taken", {})[name] = round(time.time(), 4)   # git's dates are in seconds
            if snapshot.skipped:
                self.data.setdefault("skipped", {})[name] = snapshot.skipped
            self._save()
        return snapshot

    async def checkpoint(self, turn: int, phase: str) -> Snapshot | None:
        """Snapshot before or after a turn; a failure becomes a notice, never an exception."""
        async with self.lock:
            return await self._checkpoint(turn, phase)

    async def _checkpoint(self, turn: int, phase: str) -> Snapshot | None:
        # After the turn ended nothing more is recorded as part of it: what we say then is
        # outside any turn (the turn's number is in the data).
        in_turn = turn if phase == "before" else None
        try:
            snapshot = await self._take(f"turn-{turn}-{phase}", f"glue: session {self.session_id} {phase} turn {turn}")
        except NoCheckpoint as exc:
            if not self.data.get("told_unavailable"):
                self.data["told_unavailable"] = True
                self._save()
                self.record("notice", {"level": "info", "text": f"No checkpoints for this session: {exc}"}, in_turn)
            return None
        except (GitError, OSError) as exc:
            self.record("notice", {"level": "warning",
                                   "text": f"The checkpoint {phase} turn {turn} failed ({exc}); "
                                           "this turn's changes cannot be shown or rewound."}, in_turn)
            return None
        if snapshot.skipped:
            self.record("notice", {"level": "info", "text": (
                f"Left out of the checkpoint {phase} turn {turn} (larger than "
                f"{self.settings.limits.max_file_bytes // (1024 * 1024)} MB): {', '.join(snapshot.skipped[:10])}"
                + (" …" if len(snapshot.skipped) > 10 else ""))}, in_turn)
        return snapshot

    async def warm(self) -> None:
        """Take a first snapshot while the agent starts, so the first prompt does not wait for
        it (it builds the private index, and outside git copies the folder once)."""
        async with self.lock:
            if self._snapshotter is None and not self.data.get("unavailable"):
                with contextlib.suppress(NoCheckpoint, GitError, OSError):
                    await self._take(None, "glue: first look at the folder")

    async def before_turn(self, turn: int) -> None:
        await self.checkpoint(turn, "before")

    async def after_turn(self, turn: int) -> None:
        """Snapshot the end of the turn and record a summary of what it changed."""
        async with self.lock:
            after = await self._checkpoint(turn, "after")
            before = after and await self._snapshotter.resolve(self.ref(f"turn-{turn}-before"))
            if not before:
                return
            try:
                files = await self._diff(before, after.commit, [f"turn-{turn}-before", f"turn-{turn}-after"],
                                         patches=False)
            except GitError as exc:
                self.record("notice", {"level": "warning", "text": f"Could not list turn {turn}'s changes: {exc}"}, None)
                return
            self.record("turn_changes", {
                "turn": turn, **summarize(files),
                "changes": [f.to_json(with_diff=False) for f in files[:FILES_IN_EVENT]],
                "more": max(0, len(files) - FILES_IN_EVENT)}, None)   # the turn has ended: outside it

    async def settle(self) -> None:
        """Wait for whatever snapshot or operation is under way (before closing the engine)."""
        async with self.lock:
            pass

    async def _diff(self, old: str, new: str, names: list[str], patches: bool = True,
                    renames: bool = True) -> list[FileChange]:
        location = self._snapshotter.location
        excludes = [f":(top,exclude,literal){p}" for p in self._skipped(names)]
        return await diff_trees(location.git, old, new, location.pathspec + excludes, patches=patches,
                                renames=renames)

    def _skipped(self, names: list[str]) -> list[str]:
        skipped = self.data.get("skipped", {})
        return sorted({p for name in names for p in skipped.get(name, [])})

    async def changes(self, turn: int) -> dict:
        """Every file turn `turn` changed, with diffs; while it runs, compared with the folder now."""
        async with self.lock:
            snapshotter = await self.snapshotter()
            before = await snapshotter.resolve(self.ref(f"turn-{turn}-before"))
            if before is None:
                raise NoCheckpoint(f"Turn {turn} has no checkpoint, so its changes are not known "
                                   "(it ran before checkpoints were taken, in the session it was forked from, "
                                   "or its checkpoint failed; see the transcript).")
            after = await snapshotter.resolve(self.ref(f"turn-{turn}-after"))
            live = after is None
            names = [f"turn-{turn}-before", f"turn-{turn}-after"]
            if live:
                now = await self._take(None, "glue: live view")
                after, names = now.commit, names[:1]
            files = await self._diff(before, after, names)
        return {"turn": turn, "live": live, **summarize(files), "changes": [f.to_json() for f in files],
                "skipped": self._skipped(names), "note": IGNORED_NOTE, **self._where()}

    def _where(self) -> dict:
        location = self._snapshotter.location
        return {"root": str(location.toplevel), "scope": location.scope, "kind": location.kind}

    async def checkpoints(self) -> list[dict]:
        snapshotter = await self.snapshotter()
        out = await snapshotter.git.run(
            "for-each-ref", "--format=%(refname)%00%(objectname)%00%(committerdate:unix)",
            f"refs/glue/{self.session_id}/")
        items = []
        for line in out.decode("utf-8", "surrogateescape").splitlines():
            name, commit, when = line.split("\0")
            short = name.rsplit("/", 1)[-1]
            taken = self.data.get("taken", {}).get(short, float(when or 0))
            items.append({"name": short, "commit": commit, "created_at": taken, "label": checkpoint_label(short)})
        return sorted(items, key=lambda c: c["created_at"])

    # rewind ---------------------------------------------------------------------------

    async def _target(self, name: str) -> str:
        if not CHECKPOINT_NAME.match(name):
            raise BadCheckpointName(f"{name!r} is not a checkpoint name (turn-N-before, turn-N-after, rewind-K).")
        commit = await (await self.snapshotter()).resolve(self.ref(name))
        if commit is None:
            raise NoCheckpoint(f"Session {self.session_id} has no checkpoint {checkpoint_label(name)!r} ({name}).")
        return commit

    async def rewind_preview(self, name: str) -> dict:
        """What a rewind to checkpoint `name` would change, file by file (nothing is touched)."""
        async with self.lock:
            target = await self._target(name)
            now = await self._take(None, "glue: rewind preview")
            files = await self._diff(now.commit, target, [name], renames=False)
        return {"to": name, "label": checkpoint_label(name), **summarize(files),
                "changes": [f.to_json() for f in files], "note": IGNORED_NOTE, **self._where()}

    async def rewind(self, name: str) -> dict:
        """Restore the folder to checkpoint `name`, after snapshotting it as rewind-K."""
        async with self.lock:
            target = await self._target(name)
            self.operation = "rewinding"
            try:
                number = self.data.get("rewinds", 0) + 1
                undo_name = f"rewind-{number}"
                undo = await self._take(undo_name, f"glue: session {self.session_id} before rewind {number} to {name}")
                location = self._snapshotter.location
                steps = await plan(location.git, undo.commit, target, location.pathspec,
                                   self._skipped([name, undo_name]))
                self.data["rewinds"] = number
                self._save()
                op = self.journal.begin(self.session_id, "rewind", {
                    "to": name, "undo": undo_name, "steps": [s.to_json() for s in steps]})
                try:
                    await apply_steps(location.git, location.toplevel, steps)
                except Exception as exc:
                    await self._restore(undo.commit)
                    self.journal.finish(op, "rolled back")
                    raise WorkspaceError(f"The rewind could not be completed ({exc}); the folder was put back "
                                         "as it was before it.") from None
                self.journal.finish(op)
            finally:
                self.operation = None
        result = {"to": name, "label": checkpoint_label(name), "undo": undo_name, "files": len(steps),
                  "changes": [{"path": s.path, "status": "deleted" if s.mode is None else "restored"}
                              for s in steps[:FILES_IN_EVENT]], "more": max(0, len(steps) - FILES_IN_EVENT)}
        self.record("rewind", result, None)
        return result

    async def _restore(self, commit: str) -> None:
        """Make the scope match `commit` from whatever state it is in (used to roll back)."""
        location = self._snapshotter.location
        now = await self._take(None, "glue: roll back")
        steps = await plan(location.git, now.commit, commit, location.pathspec, [])
        await apply_steps(location.git, location.toplevel, steps)

    async def recover(self, op: dict) -> None:
        """A rewind the server did not finish: apply its plan again, or roll back."""
        data = op["data"]
        async with self.lock:
            try:
                location = (await self.snapshotter()).location
                steps = [Step.from_json(s) for s in data["steps"]]
                await apply_steps(location.git, location.toplevel, steps)
            except Exception as exc:
                try:
                    undo = await self._target(data["undo"])
                    await self._restore(undo)
                except Exception as second:
                    self.journal.finish(op["id"], "failed")
                    self.record("notice", {"level": "error", "text": (
                        f"A rewind to {checkpoint_label(data['to'])} was interrupted by a server stop and could "
                        f"neither be finished ({exc}) nor rolled back ({second}). The folder may be partly "
                        f"rewound; checkpoint {data['undo']} holds its state from before.")}, None)
                    return
                self.journal.finish(op["id"], "rolled back")
                self.record("notice", {"level": "warning", "text": (
                    f"A rewind to {checkpoint_label(data['to'])} was interrupted by a server stop and could not "
                    f"be finished ({exc}); it was rolled back, the folder is as it was before it.")}, None)
                return
            self.journal.finish(op["id"])
        self.record("notice", {"level": "info", "text": (
            f"A rewind to {checkpoint_label(data['to'])} was interrupted by a server stop; it was finished "
            f"on restart ({len(steps)} file(s)).")}, None)
        self.record("rewind", {"to": data["to"], "label": checkpoint_label(data["to"]), "undo": data["undo"],
                               "files": len(steps), "recovered": True, "changes": [], "more": 0}, None)

    # worktree -------------------------------------------------------------------------

    @property
    def worktree(self) -> worktrees.Worktree | None:
        tree = self.data.get("worktree")
        return worktrees.Worktree(**tree) if tree else None

    async def create_worktree(self, title: str, inherit: worktrees.Worktree | None = None,
                              start: str | None = None) -> Path:
        """Make the session's worktree from the repository holding `self.folder` (or, for a
        fork, from its parent's: same base branch, starting at `start`); returns the folder
        the agent works in (the same sub-folder, inside the worktree)."""
        location = await locate(self.folder, self.settings.shadow_root, self.settings.all_private)
        if location.kind != "git":
            raise WorkspaceError(f"A worktree needs a git repository, and {self.folder} is not in one.")
        scope = self.data.get("scope", location.scope)
        try:
            if inherit is not None:
                base, toplevel = inherit.base, Path(inherit.repo)
                start = start or await Git(Path(inherit.path)).text("rev-parse", "HEAD")
            else:
                toplevel = location.toplevel
                base, head = await worktrees.current_base(location.git, toplevel)
                start = start or head
            tree = await worktrees.create(Git(toplevel), toplevel, self.settings.worktrees_dir,
                                          self.session_id, title, base, start)
        except worktrees.WorktreeError as exc:
            raise WorkspaceError(str(exc)) from None
        self.data["worktree"] = tree.to_json()
        self.data["scope"] = scope
        self._save()
        self.folder = Path(tree.path) / (scope if scope != "." else "")
        return self.folder

    def record_worktree(self) -> None:
        tree = self.worktree
        self.record("worktree", {**tree.to_json(), "note": (
            f"Working in a worktree of {tree.repo} on branch {tree.branch}, from "
            f"{tree.base or 'a detached HEAD'} at {tree.base_commit[:12]}; uncommitted changes in "
            f"{tree.repo} are not in it.")}, None)

    async def worktree_status(self) -> dict:
        tree = self._require_worktree()
        repo = Git(Path(tree.repo))
        async with self.lock:
            ahead, behind = await worktrees.ahead_behind(repo, tree)
            base = await worktrees.merge_base(repo, tree)
            now = await self._take(None, "glue: worktree view")
            files = await self._diff(base, now.commit, [])
            dirty = await Git(Path(tree.path)).text("status", "--porcelain", "--untracked-files=all")
        return {**tree.to_json(), "ahead": ahead, "behind": behind,
                "uncommitted": len([line for line in dirty.splitlines() if line]),
                **summarize(files), "changes": [f.to_json() for f in files], "note": IGNORED_NOTE}

    def _require_worktree(self) -> worktrees.Worktree:
        tree = self.worktree
        if tree is None:
            raise WorkspaceError(f"Session {self.session_id} has no worktree of its own (start it with a worktree).")
        return tree

    async def merge(self, title: str) -> dict:
        tree = self._require_worktree()
        repo = Git(Path(tree.repo))
        async with self.lock:
            self.operation = "merging"
            try:
                committed = await worktrees.commit_all(Git(Path(tree.path)), f"{title or 'glue session'}\n\n"
                                                       f"Work of glue_jupyter session {self.session_id}.")
                result = await worktrees.merge(repo, tree, f"Merge {tree.branch} ({title or 'glue session'})")
            except worktrees.WorktreeError as exc:
                self.record("notice", {"level": "warning", "text": str(exc)}, None)
                raise WorkspaceError(str(exc)) from None
            finally:
                self.operation = None
        result = {**result, "branch": tree.branch, "committed_uncommitted_work": committed}
        self.record("merge", result, None)
        return result

    async def discard(self) -> dict:
        tree = self._require_worktree()
        repo = Git(Path(tree.repo))
        async with self.lock:
            self.operation = "discarding"
            try:
                number = self.data.get("discards", 0) + 1
                await self._take(f"discard-{number}", f"glue: session {self.session_id} before discard {number}")
                tip = await worktrees.reset_to_base(Git(Path(tree.path)), repo, tree)
                self.data["discards"] = number
                self.data["worktree"] = {**self.data["worktree"], "base_commit": tip}
                self._save()
            finally:
                self.operation = None
        result = {"branch": tree.branch, "base": tree.base, "commit": tip, "undo": f"discard-{number}"}
        self.record("discard", result, None)
        return result

    # fork -----------------------------------------------------------------------------

    def note_fork(self, child_id: str, turn: int) -> None:
        self.data.setdefault("forks", []).append({"session": child_id, "turn": turn, "at": time.time()})
        self._save()

    def note_forked_from(self, parent_id: str, turn: int) -> None:
        self.data["forked_from"] = {"session": parent_id, "turn": turn}
        self._save()

    async def seed_files(self, commit: str) -> int:
        """Make this (fresh) worktree's files those of a checkpoint (a fork's starting point);
        they show as uncommitted changes, as they were in the session forked from."""
        tree = self._require_worktree()
        git = Git(Path(tree.path))   # worktrees share the repository's objects, checkpoints too
        steps = await plan(git, "HEAD", commit, [":(top)"], [])
        await apply_steps(git, Path(tree.path), steps)
        return len(steps)

    # forgetting -----------------------------------------------------------------------

    async def forget(self, folder_shared: bool = False) -> str:
        """Delete every checkpoint of the session (git's own gc reclaims the objects), its
        private index, its worktree; returns one line on what was done. `folder_shared`: another
        session works in the same folder, so a shadow repository stays (it may be mid-snapshot)."""
        done = []
        async with self.lock:
            try:
                snapshotter = await self.snapshotter()
            except (NoCheckpoint, GitError, OSError):
                snapshotter = None
            if snapshotter is not None:
                refs = await snapshotter.refs(f"refs/glue/{self.session_id}/")
                await snapshotter.delete_refs(list(refs))
                others = [index for index in self.settings.root.glob("*/index") if index != snapshotter.index]
                with contextlib.suppress(GitError, OSError):
                    await snapshotter.remove_shared_index(others)
                done.append(f"{len(refs)} checkpoint(s) deleted")
                if snapshotter.location.kind == "folder" and not folder_shared:
                    await _collect_shadow(snapshotter)
            shutil.rmtree(self.settings.root / self.session_id, ignore_errors=True)
            tree = self.worktree
            if tree is not None:
                repo = Git(Path(tree.repo))
                done.append(await worktrees.remove(repo, tree, f"Uncommitted work of glue_jupyter session "
                                                               f"{self.session_id}, kept when it was forgotten"))
            self.journal.forget(self.session_id)
        return "; ".join(done)


async def _collect_shadow(snapshotter: Snapshotter) -> None:
    """A shadow repository is ours alone: remove it when no session keeps checkpoints in it
    (one of an earlier server run may), else let git drop what no ref holds any more."""
    git_dir = snapshotter.location.git_dir
    if not await snapshotter.refs("refs/"):
        shutil.rmtree(git_dir, ignore_errors=True)
    else:
        await snapshotter.git.run("gc", "--quiet", "--prune=now", check=False)


def checkpoint_label(name: str) -> str:
    match = re.match(r"^turn-(\d+)-(before|after)$", name)
    if match:
        return f"{match.group(2)} turn {match.group(1)}"
    match = re.match(r"^(rewind|discard)-(\d+)$", name)
    if match:
        return f"before {match.group(1)} {match.group(2)}"
    return name
