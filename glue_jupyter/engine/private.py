"""Transcripts are the user's alone: glue's folders are 0700 and its files 0600.

Applied when the engine opens (which also repairs what an earlier version created 0755/0644),
and at creation, so that no file is ever readable by others even for a moment.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path, repair: bool = True) -> None:
    """Create `path` 0700 (its missing parents as usual); with `repair`, make an existing one 0700.

    Only for glue's own folders: a database configured into a shared folder leaves that folder as it is.
    """
    path = Path(path)
    existed = path.exists()
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    if repair or not existed:
        with contextlib.suppress(PermissionError):  # not ours to change: keep what we were given
            os.chmod(path, FOLDER_MODE)


def private_files(*paths: Path) -> None:
    """Make each of `paths` that exists 0600."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(path, FILE_MODE)


def create_private(path: Path) -> None:
    """Create `path` empty and 0600 if it does not exist yet (before SQLite creates it 0644)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE))
