"""Install the real agents the suite drives, pinned, into a cache outside the repository.

    python tests/real_agents/install.py        # what ./dev test runs; prints the cache folder

Each agent gets a folder of its own (both Codex adapters install a `codex-acp` program) under
`${XDG_CACHE_HOME:-~/.cache}/glue_jupyter/real-agents/<hash of the pins>/`, so a machine
installs each set of pins once, and a change of pins installs afresh beside the old set.
Concurrent test runs share the cache: installing holds a lock, and a set counts as installed
only once every agent in it is.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pin:
    package: str
    version: str
    program: str  # the `bin` it installs

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


PINS: dict[str, Pin] = {
    # bundles Claude Code itself (@anthropic-ai/claude-agent-sdk)
    "claude": Pin("@agentclientprotocol/claude-agent-acp", "0.101.0", "claude-agent-acp"),
    # the maintained Codex adapter, bundling @openai/codex
    "codex": Pin("@agentclientprotocol/codex-acp", "2.6.0", "codex-acp"),
    # the older Codex adapter (Zed's, a Rust binary)
    "codex-zed": Pin("@zed-industries/codex-acp", "0.16.0", "codex-acp"),
    "gemini": Pin("@google/gemini-cli", "0.61.0", "gemini"),
}


def pins_hash() -> str:
    text = json.dumps({name: pin.spec for name, pin in sorted(PINS.items())})
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "glue_jupyter" / "real-agents" / pins_hash()


def program(name: str, root: Path | None = None) -> Path:
    """Where agent `name`'s program is once installed."""
    return (root or cache_root()) / name / "node_modules" / ".bin" / PINS[name].program


def installed(root: Path | None = None) -> bool:
    root = root or cache_root()
    return (root / "complete").exists() and all(program(name, root).exists() for name in PINS)


class InstallError(RuntimeError):
    pass


@contextlib.contextmanager
def _locked(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def install(log=sys.stderr) -> Path:
    """Install every pinned agent (once per machine); the cache folder. Raises InstallError."""
    root = cache_root()
    if installed(root):
        return root
    npm = shutil.which("npm")
    if npm is None:
        raise InstallError("npm is not on PATH: Node.js 20 or later with npm is needed for the real agents")
    with _locked(root):
        if installed(root):  # another run finished it while we waited
            return root
        for name, pin in PINS.items():
            if program(name, root).exists():
                continue
            folder = root / name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "package.json").write_text('{"private": true}\n')
            print(f"real agents: installing {pin.spec} into {folder}", file=log, flush=True)
            result = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--save-exact", pin.spec],
                cwd=folder, capture_output=True, text=True)
            if result.returncode != 0 or not program(name, root).exists():
                raise InstallError(f"npm install {pin.spec} failed ({result.returncode}): "
                                   f"{(result.stderr or result.stdout).strip()[-2000:]}")
        (root / "complete").write_text(json.dumps({n: p.spec for n, p in PINS.items()}) + "\n")
    return root


if __name__ == "__main__":
    try:
        print(install())
    except InstallError as exc:
        print(f"real agents: {exc}", file=sys.stderr)
        sys.exit(1)
