"""What the engine accepts from its callers: text within limits that is valid Unicode, and
working folders inside the allowed roots.

Checked here rather than only at the HTTP edge so that every caller (the server, the embedded
engine behind the magics, a script) gets the same answers and the same messages.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import FolderNotAllowed, InvalidRequest


def check_text(name: str, value: str, limit: int, knob: str) -> str:
    """`value` unchanged, or InvalidRequest saying what is wrong with it and which knob sets the limit."""
    if len(value) > limit:
        raise InvalidRequest(
            f"The {name} is too long: {len(value):,} characters; the limit is {limit:,} ({knob})."
        )
    check_unicode(name, value)
    return value


def check_unicode(name: str, value: str) -> None:
    """SQLite, the agents and every client need UTF-8: a lone surrogate (e.g. JSON "\\ud800")
    cannot be encoded, so it is refused before anything is stored."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        bad = value[e.start]
        raise InvalidRequest(
            f"The {name} is not valid Unicode text: it holds a lone surrogate (U+{ord(bad):04X}) "
            f"at character {e.start}."
        ) from None


def resolve_folder(cwd: str | None, root: Path, allowed: list[Path], knob: str) -> Path:
    """The real path of `cwd` (relative to `root`), if it is an existing folder inside `root` or
    one of `allowed`, after symlinks are followed; InvalidRequest or FolderNotAllowed otherwise."""
    if cwd is not None and not isinstance(cwd, str):
        raise InvalidRequest("cwd must be a string path.")
    cwd = cwd or "."
    check_unicode("folder", cwd)
    if "\0" in cwd:
        raise InvalidRequest("The folder name holds a NUL character.")
    folder = Path(os.path.expanduser(cwd))
    if not folder.is_absolute():
        folder = root / folder
    try:
        folder = folder.resolve()  # follows every symlink: an escaping link is judged by its target
        is_dir = folder.is_dir()
    except (OSError, RuntimeError) as e:  # a name too long, a symlink loop
        raise InvalidRequest(f"Folder {cwd} cannot be used: {getattr(e, 'strerror', None) or e}.") from None
    roots = [real(r) for r in [root, *allowed]]
    if not any(folder == r or folder.is_relative_to(r) for r in roots):
        raise FolderNotAllowed(folder, roots, knob)
    if not is_dir:
        raise InvalidRequest(f"Folder {folder} does not exist.")
    return folder


def real(path: Path) -> Path:
    return Path(os.path.expanduser(path)).resolve()
