"""What changed between two snapshots: files with status, counts, binary flag and a unified diff.

Three `git diff-tree` views of the same pair of trees, zipped in git's own order: `--raw`
(status, modes), `--numstat` (counts; `-` for binary) and `-p` (the patch, split per file).
Renames are detected (`-M`) so a moved file reads as one rename, not a delete and an add.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .git import Git, split_z

STATUS_NAMES = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed", "T": "type changed"}
SUBMODULE_MODE = "160000"
PATCH_LIMIT_PER_FILE = 256 * 1024
PATCH_LIMIT_TOTAL = 4 * 1024 * 1024


@dataclass
class FileChange:
    path: str
    status: str                     # added | modified | deleted | renamed | type changed
    old_path: str | None = None     # renamed from
    added: int = 0
    removed: int = 0
    binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    diff: str | None = None         # unified diff (None for binary files or when not asked)
    truncated: bool = False         # the diff was cut at the size limit

    def to_json(self, with_diff: bool = True) -> dict:
        data = asdict(self)
        if not with_diff:
            data.pop("diff")
            data.pop("truncated")
        return data


async def diff_trees(git: Git, old: str, new: str, pathspec: list[str], *, patches: bool = True,
                     renames: bool = True) -> list[FileChange]:
    common = ["diff-tree", "-r", "--no-ext-diff", "--no-color", "--ignore-submodules=all"]
    if renames:
        common.append("-M")
    raw = split_z(await git.run(*common, "-z", "--raw", "--numstat", old, new, "--", *pathspec))
    changes = _parse_raw_numstat(raw)
    if patches and changes:
        text = await git.run(*common, "-p", "--full-index", old, new, "--", *pathspec)
        _attach_patches(changes, text)
    return changes


def _parse_raw_numstat(fields: list[str]) -> list[FileChange]:
    changes: list[FileChange] = []
    i = 0
    while i < len(fields) and fields[i].startswith(":"):
        meta = fields[i][1:].split(" ")
        old_mode, new_mode, letter = meta[0], meta[1], meta[4][0]
        if letter in "RC":
            old_path, path = fields[i + 1], fields[i + 2]
            i += 3
        else:
            old_path, path = None, fields[i + 1]
            i += 2
        if SUBMODULE_MODE in (old_mode, new_mode):
            continue  # submodules are left alone
        changes.append(FileChange(path=path, status=STATUS_NAMES.get(letter, letter), old_path=old_path,
                                  old_mode=None if old_mode == "000000" else old_mode,
                                  new_mode=None if new_mode == "000000" else new_mode))
    by_path = {c.path: c for c in changes}
    while i < len(fields):  # numstat: "added\tremoved\tpath" or "added\tremoved\t" \0 old \0 new
        added, removed, rest = fields[i].split("\t", 2)
        if rest:
            path = rest
            i += 1
        else:
            path = fields[i + 2]
            i += 3
        change = by_path.get(path)
        if change is None:
            continue
        if added == "-":
            change.binary = True
        else:
            change.added, change.removed = int(added), int(removed)
    return changes


def _attach_patches(changes: list[FileChange], text: bytes) -> None:
    """Split `-p` output at each `diff --git` header; git keeps the --raw order."""
    pieces = []
    start = None
    for offset in _header_offsets(text):
        if start is not None:
            pieces.append(text[start:offset])
        start = offset
    if start is not None:
        pieces.append(text[start:])
    budget = PATCH_LIMIT_TOTAL
    for change, piece in zip(changes, pieces):
        if change.binary:
            continue
        limit = min(PATCH_LIMIT_PER_FILE, budget)
        change.truncated = len(piece) > limit
        shown = piece[:limit]
        budget -= len(shown)
        change.diff = shown.decode("utf-8", "replace")


def _header_offsets(text: bytes):
    if text.startswith(b"diff --git "):
        yield 0
    position = 0
    while True:
        position = text.find(b"\ndiff --git ", position)
        if position < 0:
            return
        position += 1
        yield position


def summarize(changes: list[FileChange]) -> dict:
    return {"files": len(changes), "added": sum(c.added for c in changes),
            "removed": sum(c.removed for c in changes), "binary": sum(1 for c in changes if c.binary)}
