"""Restore a folder to a snapshot, crash-safely: write the plan, apply it, mark it done.

A plan is the list of paths that differ between the folder's snapshot now and the target:
each either gets the target's content and mode (file, executable, symlink) or is deleted.
Every step is idempotent (a file is written to a temporary name and renamed into place, a
deletion of a missing file is done), so after a crash the plan is simply applied again from
the journal; if that cannot succeed, the snapshot taken just before is applied instead (roll
back). The journal lives in the engine's SQLite database (see journal.py).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from .git import Git, split_z

SUBMODULE_MODE = "160000"


@dataclass
class Step:
    path: str
    mode: str | None      # None: delete; "100644" | "100755" | "120000"
    blob: str | None

    def to_json(self) -> list:
        return [self.path, self.mode, self.blob]

    @classmethod
    def from_json(cls, data: list) -> "Step":
        return cls(*data)


async def plan(git: Git, current: str, target: str, pathspec: list[str], exclude: list[str]) -> list[Step]:
    """Steps that turn `current` into `target` (trees or commits), submodules left alone."""
    excludes = [f":(top,exclude,literal){path}" for path in exclude]
    out = await git.run("diff-tree", "-r", "-z", "--raw", "--no-renames", "--ignore-submodules=all",
                        current, target, "--", *pathspec, *excludes)
    fields = split_z(out)
    steps = []
    for meta, path in zip(fields[0::2], fields[1::2]):
        old_mode, new_mode, _old, new_blob, _status = meta[1:].split(" ")
        if SUBMODULE_MODE in (old_mode, new_mode):
            continue
        if new_mode == "000000":
            steps.append(Step(path, None, None))
        else:
            steps.append(Step(path, new_mode, new_blob))
    return steps


async def read_blobs(git: Git, shas: list[str]) -> dict[str, bytes]:
    """Contents of blobs, through one `git cat-file --batch`."""
    unique = list(dict.fromkeys(shas))
    if not unique:
        return {}
    out = await git.run("cat-file", "--batch", input="".join(f"{s}\n" for s in unique).encode())
    blobs: dict[str, bytes] = {}
    position = 0
    for sha in unique:
        end = out.index(b"\n", position)
        header = out[position:end].decode().split(" ")
        if len(header) < 3 or header[1] != "blob":
            raise FileNotFoundError(f"git object {sha} is missing from the repository")
        size = int(header[2])
        blobs[sha] = out[end + 1:end + 1 + size]
        position = end + 1 + size + 1
    return blobs


def apply(root: Path, steps: list[Step], blobs: dict[str, bytes]) -> None:
    """Make the files under `root` match the steps. Deletions first (a file may become a
    directory), then writes; directories a deletion emptied are removed."""
    emptied: set[Path] = set()
    for step in steps:
        if step.mode is None:
            target = root / step.path
            if target.is_symlink() or target.is_file():
                target.unlink()
            elif target.is_dir():
                _remove_tree_if_only_dirs(target)
            emptied.add(target.parent)
    for step in steps:
        if step.mode is not None:
            _write(root / step.path, step.mode, blobs[step.blob])
    for directory in sorted(emptied, key=lambda p: len(p.parts), reverse=True):
        _remove_empty_parents(directory, root)


def _write(target: Path, mode: str, content: bytes) -> None:
    parent = target.parent
    if parent.is_symlink() or parent.is_file():
        parent.unlink()  # a file (or link) that is a directory in the target
    parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        _remove_tree_if_only_dirs(target)
    temporary = target.with_name(f".{target.name}.glue-rewind")
    temporary.unlink(missing_ok=True)  # a fresh file: its mode is ours (less the umask), as git does
    if mode == "120000":
        os.symlink(os.fsdecode(content), temporary)
    else:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o777 if mode == "100755" else 0o666)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(content)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    os.replace(temporary, target)


def _remove_tree_if_only_dirs(directory: Path) -> None:
    """Remove a directory that holds nothing but empty directories; leave anything else."""
    for sub in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if sub.is_dir() and not sub.is_symlink():
            try:
                sub.rmdir()
            except OSError:
                pass
    try:
        directory.rmdir()
    except OSError:
        raise IsADirectoryError(f"{directory} is a directory with files glue does not track "
                                "(ignored files?); move them away and rewind again") from None


def _remove_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


async def apply_steps(git: Git, root: Path, steps: list[Step]) -> None:
    blobs = await read_blobs(git, [s.blob for s in steps if s.blob])
    await asyncio.to_thread(apply, root, steps, blobs)


__all__ = ["Step", "apply", "apply_steps", "plan", "read_blobs"]
