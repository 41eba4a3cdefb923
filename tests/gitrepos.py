"""Real git repositories for tests, as users have them: commits, uncommitted work, untracked and
ignored files, a stash, a submodule. And the one observation that matters: the user's state."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

GIT_ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
           "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           # Observing must not change what is observed: `git status` would refresh the index.
           "GIT_OPTIONAL_LOCKS": "0"}


def git(cwd: Path, *args: str, check: bool = True, env: dict | None = None) -> str:
    done = subprocess.run(["git", "-c", "protocol.file.allow=always", *args], cwd=cwd, env={**GIT_ENV, **(env or {})},
                          capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def make_repo(path: Path, files: dict[str, str] | None = None, branch: str = "main") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    for name, text in (files or {"README.md": "# project\n", "src/app.py": "print('hi')\n"}).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


def make_lived_in_repo(path: Path, submodule_source: Path | None = None) -> Path:
    """A repository in the middle of someone's work."""
    make_repo(path, {
        "README.md": "# project\n",
        "src/app.py": "def main():\n    return 1\n",
        "src/util.py": "X = 1\n",
        "run.sh": "#!/bin/sh\necho run\n",
        ".gitignore": "*.log\nbuild/\n",
        "data/table.csv": "a,b\n1,2\n",
    })
    (path / "run.sh").chmod(0o755)
    git(path, "add", "run.sh")
    git(path, "commit", "-q", "-m", "executable")
    if submodule_source is not None:
        git(path, "submodule", "add", "-q", str(submodule_source), "vendor/lib")
        git(path, "commit", "-q", "-m", "submodule")
    (path / "src/util.py").write_text("X = 2\n")          # stashed away
    git(path, "stash", "push", "-q", "-m", "user's own stash")
    (path / "README.md").write_text("# project\n\nstaged line\n")
    git(path, "add", "README.md")                         # staged
    (path / "src/app.py").write_text("def main():\n    return 2\n")   # modified, unstaged
    (path / "notes.txt").write_text("my untracked notes\n")           # untracked
    (path / "debug.log").write_text("ignored\n")                      # ignored
    (path / "build").mkdir()
    (path / "build/out.bin").write_bytes(b"\0ignored build output")
    return path


def user_state(repo: Path) -> dict:
    """Everything of the user's a checkpoint must leave alone, byte for byte."""
    git_dir = Path(git(repo, "rev-parse", "--absolute-git-dir").strip())
    index = git_dir / "index"
    return {
        "status": git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
        "stash": git(repo, "stash", "list"),
        "HEAD": git(repo, "rev-parse", "HEAD").strip(),
        "head_ref": (git_dir / "HEAD").read_text(),
        "branches": git(repo, "for-each-ref", "refs/heads", "refs/tags", "refs/stash"),
        "index": hashlib.sha256(index.read_bytes()).hexdigest() if index.exists() else None,
        "index_mtime": index.stat().st_mtime_ns if index.exists() else None,
    }


def tree_of(folder: Path, skip=(".git",)) -> dict[str, tuple]:
    """Every file under folder: relative path -> (kind, content or link target, executable)."""
    result = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            full = Path(root) / name
            rel = str(full.relative_to(folder))
            if full.is_symlink():
                result[rel] = ("link", os.readlink(full), False)
            else:
                result[rel] = ("file", full.read_bytes(), os.access(full, os.X_OK))
    return result
