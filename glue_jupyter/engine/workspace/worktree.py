"""A git worktree per session: created on a branch of its own, merged back or discarded.

The worktree starts from the base branch's last commit (uncommitted work in the user's
checkout is not carried over, and the session says so). Merging first commits what the agent
left uncommitted on the session's branch, then either fast-forwards the base branch or makes
a merge commit; conflicts are found with `git merge-tree` before anything is written, so a
conflict is reported with its files and nothing is half-merged. Where the base branch is
checked out, it is advanced with `git merge --ff-only`, which refuses (and changes nothing)
when the user's own uncommitted changes would be overwritten.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .git import Git, GitError, split_z


class WorktreeError(Exception):
    """A worktree operation was refused; the message says why and what to do."""


class MergeConflict(WorktreeError):
    def __init__(self, branch: str, base: str, files: list[str]):
        shown = ", ".join(files[:20]) + (f" and {len(files) - 20} more" if len(files) > 20 else "")
        super().__init__(f"Merging {branch} into {base} would conflict in: {shown}. Nothing was merged; "
                         f"resolve it in a terminal (git merge {branch}) or ask the agent to rebase its work.")
        self.files = files


@dataclass
class Worktree:
    path: str          # the worktree's root
    branch: str        # the session's branch
    base: str | None   # the branch it came from (None: a detached HEAD)
    base_commit: str   # where it started
    repo: str          # the main repository's work tree

    def to_json(self) -> dict:
        return asdict(self)


def branch_name(title: str, session_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (title or "").lower()).strip("-")[:40].strip("-")
    return f"glue/{slug + '-' if slug else ''}{session_id[:8]}"


async def current_base(repo: Git, toplevel: Path) -> tuple[str | None, str]:
    """(the branch checked out, or None when detached; its commit)."""
    head = await repo.run_full("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if head[0] != 0:
        raise WorktreeError(f"{toplevel} has no commit yet; a worktree starts from one. Commit once, then try again.")
    symbolic = await repo.run_full("symbolic-ref", "--quiet", "--short", "HEAD")
    return (symbolic[1].decode().strip() if symbolic[0] == 0 else None), head[1].decode().strip()


async def create(repo: Git, toplevel: Path, worktrees_dir: Path, session_id: str, title: str,
                 base: str | None, start: str) -> Worktree:
    """A worktree on a new branch at commit `start`, to be merged into branch `base` later."""
    branch = branch_name(title, session_id)
    path = Path(worktrees_dir) / f"{toplevel.name}-{session_id[:8]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        await repo.run("worktree", "add", "--quiet", "-b", branch, str(path), start)
    except GitError as exc:
        raise WorktreeError(f"Could not create a worktree for the session: {exc}") from None
    return Worktree(str(path), branch, base, start, str(toplevel))


async def ahead_behind(repo: Git, tree: Worktree) -> tuple[int, int]:
    base = tree.base or tree.base_commit
    out = await repo.text("rev-list", "--left-right", "--count", f"{base}...{tree.branch}")
    behind, ahead = (int(n) for n in out.split())
    return ahead, behind


async def merge_base(repo: Git, tree: Worktree) -> str:
    base = tree.base or tree.base_commit
    return await repo.text("merge-base", base, tree.branch)


async def commit_all(worktree_git: Git, message: str) -> bool:
    """Commit everything uncommitted in the session's worktree (glue owns it). True if it did."""
    await worktree_git.run("add", "--all")
    if await worktree_git.ok("diff", "--cached", "--quiet"):
        return False
    await worktree_git.run("commit", "--quiet", "--no-verify", "-m", message)
    return True


async def merge(repo: Git, tree: Worktree, message: str) -> dict:
    """Merge the session's branch into its base; returns {how, commit, base}."""
    if tree.base is None:
        raise WorktreeError("The worktree was made from a detached HEAD: there is no base branch to merge into. "
                            f"Merge {tree.branch} yourself where you want it.")
    base_ref = f"refs/heads/{tree.base}"
    base_tip = await repo.text("rev-parse", "--verify", f"{base_ref}^{{commit}}")
    tip = await repo.text("rev-parse", "--verify", f"refs/heads/{tree.branch}^{{commit}}")
    if await repo.ok("merge-base", "--is-ancestor", tip, base_tip):
        return {"how": "nothing to merge", "commit": base_tip, "base": tree.base}
    if await repo.ok("merge-base", "--is-ancestor", base_tip, tip):
        target, how = tip, "fast-forward"
    else:
        code, out, err = await repo.run_full("merge-tree", "--write-tree", "-z", "--name-only", base_tip, tip)
        if code not in (0, 1):
            raise GitError(["merge-tree"], code, err.decode(errors="replace"))
        # The merged tree, then (on a conflict) the conflicted files, then an empty field.
        tree_and_files = split_z(out.split(b"\0\0", 1)[0])
        if code == 1:
            raise MergeConflict(tree.branch, tree.base, list(dict.fromkeys(tree_and_files[1:])))
        target = await repo.text("commit-tree", tree_and_files[0], "-p", base_tip, "-p", tip, "-m", message)
        how = "merge commit"
    await advance(repo, tree.base, base_tip, target)
    return {"how": how, "commit": target, "base": tree.base}


async def checked_out_at(repo: Git, branch: str) -> Path | None:
    out = await repo.run("worktree", "list", "--porcelain", "-z")
    current: Path | None = None
    for field in split_z(out):
        if field.startswith("worktree "):
            current = Path(field[len("worktree "):])
        elif field == f"branch refs/heads/{branch}":
            return current
    return None


async def advance(repo: Git, base: str, old: str, new: str) -> None:
    """Move `base` from `old` to `new`: in the checkout that has it, or just the ref."""
    where = await checked_out_at(repo, base)
    if where is None:
        await repo.run("update-ref", "-m", "glue: merge", f"refs/heads/{base}", new, old)
        return
    code, out, err = await Git(where).run_full("merge", "--ff-only", "--quiet", new)
    if code != 0:
        text = (err or out).decode(errors="replace")
        files = [line.strip() for line in text.splitlines() if line.startswith("\t")]
        named = f" ({', '.join(files)})" if files else ""
        raise WorktreeError(f"{base} is checked out at {where} with uncommitted changes that the merge would "
                            f"overwrite{named}. Nothing was merged; commit or stash them there, then merge again.")


async def reset_to_base(worktree_git: Git, repo: Git, tree: Worktree) -> str:
    """Throw away the session's work: its branch and files go back to the base's tip."""
    start = tree.base or tree.base_commit
    tip = await repo.text("rev-parse", "--verify", f"{start}^{{commit}}")
    await worktree_git.run("reset", "--quiet", "--hard", tip)
    await worktree_git.run("clean", "--quiet", "-fd")
    return tip


async def remove(repo: Git, tree: Worktree, message: str) -> str:
    """Remove the worktree; keep its branch only if it holds work the base has not. Returns
    what happened to the branch, for the log."""
    path = Path(tree.path)
    if path.exists():
        await commit_all(Git(path), message)
    await repo.run("worktree", "remove", "--force", tree.path, check=False)
    await repo.run("worktree", "prune", check=False)
    ahead, _ = await ahead_behind(repo, tree)
    if ahead:
        return f"kept branch {tree.branch} ({ahead} commit(s) not in {tree.base or tree.base_commit[:12]})"
    await repo.run("branch", "--quiet", "-D", tree.branch, check=False)
    return f"deleted branch {tree.branch} (nothing unmerged)"
