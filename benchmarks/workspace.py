"""Checkpoint benchmark: time and disk per turn on a 10,000-file repository, against `git stash create`.

    .venv/bin/python benchmarks/workspace.py [--files 10000] [--rounds 7]

Builds a repository of `--files` committed text files (100 per folder, ~2 KB each, like a
mid-sized code base), then for each round makes "a turn of a few edits" (3 files modified,
1 added, 1 deleted) and measures, on the same tree in the same run:

  reference   `git stash create` (the work tree's tracked changes as a commit, nothing kept)
  ours        the checkpoint after the turn (snapshot through the private index, commit, ref),
              the turn's file list (a diff of its two checkpoints, recorded as turn_changes), and
              the checkpoint before the next turn (nothing changed meanwhile)

and the disk a turn costs (bytes of new objects in .git/objects, ours and stash's). Also: the
first checkpoint of a session (its private index copied from the user's), a rewind of the turn,
the same folder without git (the shadow repository's first and per-turn cost), and what
forgetting the session leaves to git's own gc. Prints medians and the ratio against the goal
(no slower than `git stash create`; a few kilobytes per turn).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from glue_jupyter.engine.workspace import Journal, Limits, Settings, Workspace

ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
       "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "bench",
       "GIT_COMMITTER_EMAIL": "b@x", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
WORDS = ("data", "frame", "value", "index", "model", "train", "score", "plot", "load", "save", "config",
         "result", "batch", "item", "total", "count", "mean", "error", "column", "table")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True, text=True).stdout


def source_text(rng: random.Random, lines: int = 60) -> str:
    out = []
    for i in range(lines):
        a, b, c = rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
        out.append(f"def {a}_{b}_{i}({c}):\n    return {c}.{a}() + {rng.randint(0, 999)}\n" if i % 3 == 0
                   else f"{a}_{i} = {b}({c}, {rng.randint(0, 99999)})  # {rng.choice(WORDS)}\n")
    return "".join(out)[:2000]


def build_repo(path: Path, files: int) -> None:
    rng = random.Random(7)
    for n in range(files):
        folder = path / f"pkg{n // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{n % 100:03d}.py").write_text(source_text(rng))
    (path / ".gitignore").write_text("*.log\n__pycache__/\n")
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "a project of realistic size")
    git(path, "gc", "-q")   # packed, as a cloned repository is
    git(path, "status", "--porcelain")   # a warm index, as after the user's own `git status`


def objects_bytes(git_dir: Path) -> int:
    """Bytes of loose objects (what a checkpoint adds; packs are the user's history)."""
    total = 0
    for sub in (git_dir / "objects").iterdir():
        if len(sub.name) == 2 and sub.is_dir():
            total += sum(f.stat().st_size for f in sub.iterdir())
    return total


def make_turn(repo: Path, rng: random.Random, turn: int) -> None:
    """A turn of a few edits: 3 files modified, 1 added, 1 deleted."""
    existing = sorted(repo.glob("pkg*/mod*.py"))
    edited, victim = rng.sample(existing, 3), rng.choice(existing)
    for target in edited:
        with target.open("a") as f:
            f.write(f"\n# edited in turn {turn}\nvalue_{turn} = {rng.randint(0, 9999)}\n")
    (edited[0].parent / f"new_{turn}.py").write_text(source_text(rng, 20))
    if victim not in edited:
        victim.unlink()


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


async def atimed(coro):
    t0 = time.perf_counter()
    result = await coro
    return time.perf_counter() - t0, result


def stash_create(repo: Path) -> str:
    return git(repo, "stash", "create").strip()


async def measure(files: int, rounds: int, tmp: Path) -> dict:
    repo = tmp / "repo"
    t_build, _ = timed(lambda: build_repo(repo, files))
    git_dir = repo / ".git"
    db = sqlite3.connect(str(tmp / "bench.db"), isolation_level=None)
    journal = Journal(db)
    settings = Settings(root=tmp / "glue" / "workspaces", worktrees_dir=tmp / "glue" / "worktrees",
                        limits=Limits(max_new_files=files * 2))
    events = []
    workspace = Workspace("bench", repo, journal, settings, lambda kind, data, turn: events.append(kind))
    rng = random.Random(11)

    first, _ = await atimed(workspace.before_turn(1))
    stash, after, before_next, summary, ours_disk, stash_disk = [], [], [], [], [], []
    for turn in range(1, rounds + 1):
        make_turn(repo, rng, turn)
        # Reference, on the same tree: what `git stash create` costs, and what it writes.
        size = objects_bytes(git_dir)
        seconds, _ = timed(lambda: stash_create(repo))
        stash.append(seconds)
        stash_disk.append(objects_bytes(git_dir) - size)
        # Ours: the after-turn checkpoint alone, then the whole after_turn (snapshot + diff).
        size = objects_bytes(git_dir)
        seconds, _ = await atimed(workspace.checkpoint(turn, "after"))
        after.append(seconds)
        ours_disk.append(objects_bytes(git_dir) - size)
        before_commit = await workspace._snapshotter.resolve(workspace.ref(f"turn-{turn}-before"))
        after_commit = await workspace._snapshotter.resolve(workspace.ref(f"turn-{turn}-after"))
        seconds, _ = await atimed(workspace._diff(before_commit, after_commit, [], patches=False))
        summary.append(seconds)   # what after_turn adds to the checkpoint: the turn's file list
        seconds, _ = await atimed(workspace.before_turn(turn + 1))
        before_next.append(seconds)

    rewind_s, result = await atimed(workspace.rewind(f"turn-{rounds}-before"))
    undo_s, _ = await atimed(workspace.rewind(result["undo"]))
    changes_s, changes = await atimed(workspace.changes(rounds))

    loose_before = objects_bytes(git_dir)
    refs = len(git(repo, "for-each-ref", "refs/glue/").splitlines())
    shared_index = sum(f.stat().st_size for f in git_dir.glob("sharedindex.*"))  # the private index's base
    await workspace.forget()
    left_refs = len(git(repo, "for-each-ref", "refs/glue/").splitlines())
    left_shared = len(list(git_dir.glob("sharedindex.*")))
    git(repo, "gc", "-q", "--prune=now")
    loose_after_gc = objects_bytes(git_dir)

    # The same tree outside git: a shadow repository of ours.
    plain = tmp / "plain"
    shutil.copytree(repo, plain, ignore=shutil.ignore_patterns(".git"))
    shadow = Workspace("plain", plain, journal, settings, lambda *a: None)
    shadow_first, _ = await atimed(shadow.before_turn(1))
    shadow_disk_first = sum(f.stat().st_size for f in settings.shadow_root.rglob("*") if f.is_file())
    make_turn(plain, rng, 1)
    shadow_turn, _ = await atimed(shadow.checkpoint(1, "after"))
    shadow_disk_turn = sum(f.stat().st_size for f in settings.shadow_root.rglob("*") if f.is_file()) - shadow_disk_first
    await shadow.forget()
    db.close()
    return {
        "files": files, "build": t_build, "first": first, "stash": stash, "after": after, "summary": summary,
        "before_next": before_next, "ours_disk": ours_disk, "stash_disk": stash_disk, "rewind": rewind_s,
        "rewound": result["files"], "undo": undo_s, "changes": changes_s, "changed": changes["files"],
        "refs": refs, "left_refs": left_refs, "shared_index": shared_index, "left_shared": left_shared,
        "loose_before_gc": loose_before, "loose_after_gc": loose_after_gc,
        "shadow_first": shadow_first, "shadow_disk_first": shadow_disk_first, "shadow_turn": shadow_turn,
        "shadow_disk_turn": shadow_disk_turn, "shadow_left": settings.shadow_root.exists() and any(settings.shadow_root.iterdir()),
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def kb(n: float) -> str:
    return f"{n / 1024:.1f} KiB"


def report(r: dict) -> None:
    med = statistics.median
    print(f"repository: {r['files']:,} committed files (built in {r['build']:.1f} s), {len(r['after'])} turns "
          "of 3 edits + 1 new file + 1 deletion; medians")
    print()
    print(f"{'':44} {'time':>10} {'disk':>11}")
    print(f"{'git stash create (reference)':44} {ms(med(r['stash'])):>10} {kb(med(r['stash_disk'])):>11}")
    print(f"{'checkpoint after a turn (ours)':44} {ms(med(r['after'])):>10} {kb(med(r['ours_disk'])):>11}")
    label = "  + the turn's file list (diff of checkpoints)"
    print(f"{label:44} {ms(med(r['summary'])):>10}")
    print(f"{'checkpoint before the next turn (no change)':44} {ms(med(r['before_next'])):>10}")
    print(f"{'first checkpoint of a session':44} {ms(r['first']):>10}")
    ratio = med(r["after"]) / med(r["stash"])
    print()
    print(f"checkpoint / git stash create: {ratio:.2f} (goal ≤ 1.0: {'met' if ratio <= 1.0 else 'MISSED'}); "
          f"disk per turn {kb(med(r['ours_disk']))} (goal: a few KiB: "
          f"{'met' if med(r['ours_disk']) < 16 * 1024 else 'MISSED'})")
    print(f"rewind of the last turn ({r['rewound']} files): {ms(r['rewind'])}; undo: {ms(r['undo'])}; "
          f"changes of a turn with diffs ({r['changed']} files): {ms(r['changes'])}")
    print(f"forget: {r['refs']} refs → {r['left_refs']}; the private index's shared file "
          f"({kb(r['shared_index'])}, once per session) → {r['left_shared']} left; loose objects "
          f"{kb(r['loose_before_gc'])} → {kb(r['loose_after_gc'])} after the user's `git gc --prune=now`")
    print(f"outside git (shadow repository): first checkpoint {ms(r['shadow_first'])}, "
          f"{kb(r['shadow_disk_first'])}; a turn {ms(r['shadow_turn'])}, {kb(r['shadow_disk_turn'])}; "
          f"after forget: {'left' if r['shadow_left'] else 'removed'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report(asyncio.run(measure(args.files, args.rounds, Path(tmp))))


if __name__ == "__main__":
    main()
