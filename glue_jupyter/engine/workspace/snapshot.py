"""Snapshots of a session's folder as git trees, through a private index.

How one is taken, without touching the user's branch, index, stash or files:
1. The session has its own index file under glue's data directory (the first time, a copy of
   the user's index, so git's stat cache makes the first snapshot cheap too).
2. `git status --porcelain=v2` with that index names every path whose file differs from it
   (modified, deleted, untracked; .gitignore'd files are not listed, submodules are skipped).
3. `git update-index` re-hashes exactly those paths into the private index, `git write-tree`
   turns it into a tree, `git commit-tree` + `git update-ref` keep it on a private ref.

The private index is a split index: its entries live in a shared file git keeps in the
repository's git directory (`sharedindex.<hash>`, written once), and each write of the index
writes only what changed since. On a 10,000-file repository that halves what `update-index`
and `write-tree` cost (each rewrote 800 KB). Forgetting the session removes the shared file;
a private index git can no longer read is rebuilt, as on the first snapshot.

This is the work `git stash create` does, plus untracked files. Files over the size limit
are left out of the snapshot (and named), so a 2 GB data file never lands in `.git/objects`;
and when one snapshot would copy more than `max_new_files` untracked files, the untracked
folders holding most of them (a dataset, an unignored node_modules) are left out from then on
(and named), so a checkpoint never copies a mountain of files nobody asked git to keep.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .git import GitError, encode_path, split_z
from .location import Location

SPLIT_INDEX = ("-c", "core.splitIndex=true")


class SnapshotTooLarge(Exception):
    """A folder outside git holds more files than we keep copies of."""


@dataclass
class Snapshot:
    tree: str
    commit: str
    skipped: list[str] = field(default_factory=list)   # too large: not in this snapshot
    left_out: list[str] = field(default_factory=list)  # folders of untracked files left out from now on


@dataclass
class Limits:
    max_file_bytes: int = 50 * 1024 * 1024
    max_new_files: int = 5_000   # files one snapshot may copy that no checkpoint holds yet


class Snapshotter:
    """Takes snapshots of one Location's scope with one private index. Not re-entrant: the
    Workspace holds a lock around every use."""

    def __init__(self, location: Location, index: Path, limits: Limits):
        self.location = location
        self.index = index
        self.limits = limits
        self._last: Snapshot | None = None

    @property
    def git(self):
        return self.location.git

    async def _indexed(self, *args: str, input: bytes | None = None) -> bytes:
        """`git args…` on the private index (split: see the module's docstring)."""
        return await self.git.run(*SPLIT_INDEX, *args, input=input, index=self.index)

    async def _prepare_index(self) -> None:
        if self.index.exists():
            return
        self.index.parent.mkdir(parents=True, exist_ok=True)
        users = self.location.git_dir / "index"
        if self.location.kind == "git" and users.is_file():
            # A copy: reading the user's index is all we ever do with it. copy2 keeps its mtime,
            # which git's racy-clean check compares with each entry's (a fresh mtime would let a
            # same-size edit made in the index's second pass as unchanged).
            shutil.copy2(users, self.index)
        elif await self.git.ok("rev-parse", "--verify", "--quiet", "HEAD"):
            await self._indexed("read-tree", "HEAD")

    async def changed_paths(self) -> list[str]:
        """Paths under the scope whose file differs from the private index. The untracked cache
        lives in the private index: folders unchanged since the last snapshot are not walked."""
        out = await self._indexed("-c", "core.untrackedCache=true", "status", "--porcelain=v2", "-z",
                                  "--untracked-files=all", "--ignore-submodules=all", "--no-renames", "--",
                                  *self.location.pathspec)
        return parse_status(out)

    async def _leave_out_crowds(self, paths: list[str], untracked: list[str]) -> tuple[list[str], list[str]]:
        """In a git repository: when more than max_new_files untracked files would be copied,
        leave out the untracked folders holding most of them (never a folder git tracks files
        in). Returns (paths to snapshot, folders left out)."""
        limit = self.limits.max_new_files
        if self.location.kind != "git" or len(untracked) <= limit:
            return paths, []
        counts: Counter[str] = Counter()
        for path in untracked:
            for parent in PurePosixPath(path).parents:
                if str(parent) != "." and (self.location.scope == "." or str(parent).startswith(self.location.scope + "/")):
                    counts[str(parent)] += 1
        left_out: list[str] = []
        remaining = len(untracked)
        for folder, count in counts.most_common():
            if remaining <= limit or count < 50:
                break
            if any(folder == done or folder.startswith(done + "/") for done in left_out):
                continue
            tracked = await self._indexed("ls-files", "--cached", "-z", "--", f":(top,literal){folder}")
            if tracked:
                continue  # git keeps files in there: its subfolders may still be left out
            left_out.append(folder)
            remaining -= count
        if not left_out:
            return paths, []
        self.location.private.extend(left_out)
        inside = tuple(folder + "/" for folder in left_out)
        return [p for p in paths if not p.startswith(inside)], left_out

    async def take(self, ref: str | None, message: str) -> Snapshot:
        """Snapshot the scope now; keep it on `ref` (a full ref name) when given."""
        await self._prepare_index()
        try:
            paths, untracked = await self.changed_paths()
        except GitError:
            # The private index is only a cache: one git cannot read (its shared file removed,
            # say by a gc of old shared indexes) is built again from the user's.
            self.index.unlink(missing_ok=True)
            await self._prepare_index()
            paths, untracked = await self.changed_paths()
        paths, left_out = await self._leave_out_crowds(paths, untracked)
        keep, skipped = self._within_limits(paths)
        if self.location.kind == "folder" and len(keep) > self.limits.max_new_files:
            raise SnapshotTooLarge(
                f"{self.location.toplevel} is not in a git repository and has more than "
                f"{self.limits.max_new_files:,} files to copy; checkpoints are off for it. "
                "Make it a git repository (git init) to have checkpoints of any size.")
        if keep:
            await self._indexed("update-index", "--add", "--remove", "--replace", "-z", "--stdin",
                                input=b"\0".join(encode_path(p) for p in keep))
        if skipped:
            await self._indexed("update-index", "--force-remove", "-z", "--stdin",
                                input=b"\0".join(encode_path(p) for p in skipped))
        tree = (await self._indexed("write-tree")).decode().strip()
        if self._last is not None and self._last.tree == tree:
            commit = self._last.commit   # nothing changed since the last snapshot: the same commit
        else:
            commit = await self._commit(tree, message)
        if ref:
            await self.git.run("update-ref", "-m", message, ref, commit)
        self._last = Snapshot(tree, commit, skipped, left_out)
        return self._last

    async def _commit(self, tree: str, message: str) -> str:
        """A commit of the tree on top of HEAD (or none, in a repository without commits)."""
        code, out, _ = await self.git.run_full("commit-tree", tree, "-p", "HEAD", "-m", message)
        if code == 0:
            return out.decode().strip()
        return await self.git.text("commit-tree", tree, "-m", message)

    def _within_limits(self, paths: list[str]) -> tuple[list[str], list[str]]:
        keep, skipped = [], []
        root = self.location.toplevel
        for path in paths:
            try:
                info = os.lstat(root / path)
            except OSError:
                keep.append(path)  # gone: update-index records the deletion
                continue
            if stat.S_ISREG(info.st_mode) and info.st_size > self.limits.max_file_bytes:
                skipped.append(path)
            else:
                keep.append(path)
        return keep, skipped

    async def resolve(self, ref: str) -> str | None:
        """The commit a ref names, or None."""
        code, out, _ = await self.git.run_full("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        return out.decode().strip() if code == 0 else None

    async def refs(self, prefix: str) -> dict[str, str]:
        out = await self.git.run("for-each-ref", "--format=%(refname)%00%(objectname)", prefix)
        pairs = (line.split("\0") for line in out.decode("utf-8", "surrogateescape").splitlines() if line)
        return {name: sha for name, sha in pairs}

    async def delete_refs(self, names: list[str]) -> None:
        if names:
            commands = "".join(f"delete {name}\n" for name in names).encode()
            await self.git.run("update-ref", "--stdin", input=commands)

    async def remove_shared_index(self, other_indexes: list[Path]) -> None:
        """Remove the private index's shared file from the git directory, unless another index
        uses it too: the user's (ours began as a copy of a split index of theirs), or another
        session's (a shared file is named by its content: sessions that began from the same
        index share it). An index of elsewhere that loses it is rebuilt (see `take`)."""
        if not self.index.exists():
            return
        ours = await self._shared_index_path(self.index)
        if not ours:
            return
        for index in [None, *other_indexes]:
            if await self._shared_index_path(index) == ours:
                return
        Path(ours).unlink(missing_ok=True)

    async def _shared_index_path(self, index: Path | None) -> str:
        code, out, _ = await self.git.run_full("rev-parse", "--shared-index-path", index=index)
        path = out.decode("utf-8", "surrogateescape").strip() if code == 0 else ""
        return str((self.git.cwd / path).resolve()) if path else ""


def parse_status(out: bytes) -> tuple[list[str], list[str]]:
    """(paths whose work-tree file differs from the index, those of them that are untracked)
    from `git status --porcelain=v2 -z`."""
    fields = split_z(out)
    paths: list[str] = []
    untracked: list[str] = []
    i = 0
    while i < len(fields):
        entry = fields[i]
        kind = entry[:1]
        if kind == "1":    # 1 XY sub mH mI mW hH hI path
            parts = entry.split(" ", 8)
            if parts[1][1] != "." and parts[2] == "N...":
                paths.append(parts[8])
        elif kind == "2":  # 2 XY sub mH mI mW hH hI Xscore path \0 origPath
            parts = entry.split(" ", 9)
            if parts[1][1] != "." and parts[2] == "N...":
                paths.append(parts[9])
            i += 1
        elif kind == "u":  # u XY sub m1 m2 m3 mW h1 h2 h3 path: resolved to the file as it is
            parts = entry.split(" ", 10)
            if parts[2] == "N...":
                paths.append(parts[10])
        elif kind == "?":
            path = entry[2:]
            if not path.endswith("/"):  # a nested repository: left alone, like submodules
                paths.append(path)
                untracked.append(path)
        i += 1
    return paths, untracked



__all__ = ["GitError", "Limits", "Snapshot", "SnapshotTooLarge", "Snapshotter", "parse_status"]
