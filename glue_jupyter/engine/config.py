"""Engine configuration: one dataclass, defaults that work with no configuration at all."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

PERMISSION_POLICIES = ("ask", "allow", "deny")


def default_data_dir() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "glue_jupyter"


@dataclass
class EngineConfig:
    db_path: Path | None = None
    data_dir: Path | None = None
    # Sessions work in root_dir or below it (relative cwds resolve against it), or below one of
    # allowed_roots; embedded with no server, root_dir is the process's current directory.
    root_dir: Path = field(default_factory=lambda: Path(os.getcwd()))
    allowed_roots: list = field(default_factory=list)
    max_active_sessions: int = 4
    stop_grace_period: float = 5.0
    interrupt_timeout: float = 10.0
    start_timeout: float = 60.0
    close_timeout: float = 2.0   # stop: how long the agent may take to answer ACP session/close
    permission_policy: str = "ask"
    agents: dict = field(default_factory=dict)
    max_title_length: int = 200  # characters
    max_prompt_length: int = 1_000_000  # characters, for every prompt and follow-up
    max_agent_file_size: int = 16 * 1024 * 1024  # bytes an agent may read or write through ACP, per file
    # Checkpoints and worktrees (engine/workspace/)
    checkpoints: bool = True
    checkpoint_max_file_mb: float = 50.0
    checkpoint_max_new_files: int = 5_000
    worktrees_dir: Path | None = None
    # How the surface in front of the engine names these knobs in error messages (not a setting).
    knob_prefix: ClassVar[str] = "EngineConfig."

    def __post_init__(self) -> None:
        if self.data_dir is None:
            self.data_dir = default_data_dir()
        self.data_dir = Path(self.data_dir)
        if self.db_path is None:
            self.db_path = self.data_dir / "sessions.db"
        self.db_path = Path(self.db_path)
        self.root_dir = Path(self.root_dir)
        self.allowed_roots = [Path(p) for p in self.allowed_roots]
        self.worktrees_dir = Path(self.worktrees_dir) if self.worktrees_dir else self.data_dir / "worktrees"
        if self.permission_policy not in PERMISSION_POLICIES:
            raise ValueError(
                f"permission_policy must be one of {', '.join(PERMISSION_POLICIES)}, "
                f"not {self.permission_policy!r}"
            )
        if self.max_active_sessions < 1:
            raise ValueError("max_active_sessions must be at least 1")
        if self.max_title_length < 1 or self.max_prompt_length < 1:
            raise ValueError("max_title_length and max_prompt_length must be at least 1")
        if self.max_agent_file_size < 0:
            raise ValueError("max_agent_file_size must not be negative")

    def knob(self, name: str) -> str:
        """How a user sets `name`: `c.GlueApp.name` in the server, `EngineConfig.name` embedded."""
        return self.knob_prefix + name
