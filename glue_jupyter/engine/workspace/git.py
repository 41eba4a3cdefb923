"""Run the `git` command line from asyncio: argument lists, NUL-separated output, clear errors.

Every call gets a fixed environment: no prompts, C locale (we parse output), the user's config
left in place (their excludes and attributes apply), and an identity for the commits glue makes
itself, so a machine without `user.name` still gets checkpoints. Callers that must not touch
the user's index pass `index=` (GIT_INDEX_FILE): git then reads and writes that file instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

IDENTITY = {
    "GIT_AUTHOR_NAME": "glue_jupyter", "GIT_AUTHOR_EMAIL": "glue_jupyter@localhost",
    "GIT_COMMITTER_NAME": "glue_jupyter", "GIT_COMMITTER_EMAIL": "glue_jupyter@localhost",
}
# What the user's shell may have set that would point git somewhere else than we ask.
REDIRECTING = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
               "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX")


class GitError(Exception):
    """git failed; the message is git's own last words, meant for the user."""

    def __init__(self, args: list[str], code: int, stderr: str):
        self.args_ = args
        self.code = code
        self.stderr = stderr.strip()
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        shown = "; ".join(lines[-3:]) if lines else f"exit code {code}"
        super().__init__(f"git {args[0] if args else ''} failed: {shown}")


def git_available() -> bool:
    return shutil.which("git") is not None


class Git:
    """git in one working tree (`cwd`), optionally with its own git dir (a shadow repository)."""

    def __init__(self, cwd: Path, git_dir: Path | None = None):
        self.cwd = Path(cwd)
        self.git_dir = git_dir

    def _env(self, index: Path | None, extra: dict | None) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in REDIRECTING}
        env.update(IDENTITY)
        env.update({"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "",
                    "GIT_EDITOR": "true", "GIT_MERGE_AUTOEDIT": "no"})
        if self.git_dir is not None:
            env["GIT_DIR"] = str(self.git_dir)
            env["GIT_WORK_TREE"] = str(self.cwd)
        if index is not None:
            env["GIT_INDEX_FILE"] = str(index)
        else:
            # No refresh-and-write of an index we were not asked to touch (`git status` and
            # `git diff` otherwise rewrite the user's index opportunistically).
            env["GIT_OPTIONAL_LOCKS"] = "0"
        if extra:
            env.update(extra)
        return env

    async def run(self, *args: str, input: bytes | None = None, index: Path | None = None,
                  check: bool = True, env: dict | None = None) -> bytes:
        """stdout of `git args…`; raises GitError on a non-zero exit when `check`."""
        code, out, err = await self.run_full(*args, input=input, index=index, env=env)
        if check and code != 0:
            raise GitError(list(args), code, err.decode(errors="replace"))
        return out

    async def run_full(self, *args: str, input: bytes | None = None, index: Path | None = None,
                       env: dict | None = None) -> tuple[int, bytes, bytes]:
        argv = ["git", "-c", "core.quotepath=off", "-c", "advice.addEmbeddedRepo=false",
                "-c", "gc.auto=0", "-c", "maintenance.auto=false", *args]
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=str(self.cwd), env=self._env(index, env),
            stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await process.communicate(input)
        except BaseException:  # cancelled: never leave a git half-running behind us
            if process.returncode is None:
                process.kill()
                await process.wait()
            raise
        return process.returncode, out, err

    async def text(self, *args: str, **kwargs) -> str:
        return (await self.run(*args, **kwargs)).decode("utf-8", "surrogateescape").strip()

    async def ok(self, *args: str, **kwargs) -> bool:
        code, _, _ = await self.run_full(*args, **kwargs)
        return code == 0


def split_z(output: bytes) -> list[str]:
    """Fields of `-z` output, decoded the way the file system names them."""
    return [part.decode("utf-8", "surrogateescape") for part in output.split(b"\0") if part]


def encode_path(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")
