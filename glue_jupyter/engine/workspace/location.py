"""Where a session's checkpoints live: the folder's own git repository, or a shadow one of ours.

Inside a git work tree, checkpoints are commits in that repository's object database on
private refs (`refs/glue/<session>/…`); the user's branch, index and stash are never touched.
Outside git, glue keeps a *shadow repository* of its own under the data directory whose work
tree is the session's folder (bounded in size, see Snapshotter). Either way the scope of a
session is its folder: a session started in `repo/sub` checkpoints, diffs and rewinds `sub`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .git import Git


@dataclass
class Location:
    kind: str          # "git" (the user's repository) or "folder" (a shadow repository of ours)
    toplevel: Path     # root of the work tree
    git_dir: Path      # the (per-worktree) git dir: where HEAD and the user's index are
    scope: str         # the session's folder relative to toplevel, "." for all of it
    git: Git
    private: list[str] = field(default_factory=list)   # glue's own files in there: never snapshotted

    @property
    def pathspec(self) -> list[str]:
        scope = [f":(top,literal){self.scope}"] if self.scope != "." else [":(top)"]
        return scope + [f":(top,exclude,literal){path}" for path in self.private]

    def describe(self) -> dict:
        return {"kind": self.kind, "root": str(self.toplevel), "scope": self.scope}


async def locate(folder: Path, shadow_root: Path, private: list[Path] = ()) -> Location:
    """The Location of `folder`; creates the shadow repository when it is not in git.
    `private`: glue's own files and folders (its database, checkpoints, worktrees), left out
    of every snapshot when they happen to lie inside the folder."""
    folder = Path(folder).resolve()
    location = await _locate(folder, shadow_root)
    for path in private:
        try:
            relative = Path(path).resolve().relative_to(location.toplevel)
        except ValueError:
            continue
        location.private.append(str(relative) if str(relative) != "." else "")
    location.private = [p for p in location.private if p]
    return location


async def _locate(folder: Path, shadow_root: Path) -> Location:
    probe = Git(folder)
    code, out, _ = await probe.run_full("rev-parse", "--is-inside-work-tree", "--show-toplevel",
                                        "--absolute-git-dir", "--show-prefix")
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    if code == 0 and lines and lines[0] == "true" and len(lines) >= 3:
        toplevel, git_dir = Path(lines[1]), Path(lines[2])
        prefix = lines[3].rstrip("/") if len(lines) > 3 and lines[3] else "."
        return Location("git", toplevel, git_dir, prefix, Git(toplevel))
    return await _shadow(folder, shadow_root)


async def _shadow(folder: Path, shadow_root: Path) -> Location:
    key = hashlib.sha256(str(folder).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    git_dir = shadow_root / f"{key}.git"
    git = Git(folder, git_dir=git_dir)
    if not (git_dir / "HEAD").exists():
        shadow_root.mkdir(parents=True, exist_ok=True)
        await Git(shadow_root).run("init", "--quiet", "--bare", str(git_dir))
        await git.run("config", "core.bare", "false")
        # The folder's own .gitignore files apply; a note says whose folder this is.
        (git_dir / "description").write_text(f"glue_jupyter checkpoints of {folder}\n")
    return Location("folder", folder, git_dir, ".", git)
