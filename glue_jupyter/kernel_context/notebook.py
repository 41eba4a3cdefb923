"""The notebook a kernel serves: its path, a link to it, and its cells' source.

Jupyter tells a kernel its notebook through ``JPY_SESSION_NAME`` (the path relative to the
server's root, or absolute), and starts it in the notebook's folder. The cell being run is
named by the front end in the execute request's metadata (``cellId``, JupyterLab and
Notebook 7). Cells come from two places: ``--cells`` alone reads the notebook as saved on
disk; ``--cells 3,5-7`` takes what this kernel ran as In[3], In[5] … In[7].
"""

from __future__ import annotations

import json
import os
import re

from .errors import CELL_URI

SESSION_NAME = "JPY_SESSION_NAME"
NOTEBOOK_MIME = "application/x-ipynb+json"
CELLS_CHARS = 200_000
CELL_SPEC = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


def session_name() -> str | None:
    """The notebook path Jupyter gave this kernel, as given (relative to the server root)."""
    name = os.environ.get(SESSION_NAME, "").strip()
    return name or None


def notebook_file(start_dir: str, name: str | None = None) -> str | None:
    """The notebook's absolute path on this machine, when it can be found. `start_dir`: where
    the kernel started, i.e. the notebook's folder (a later %cd does not move the notebook)."""
    name = name or session_name()
    if not name:
        return None
    if os.path.isabs(name):
        return name
    candidate = os.path.join(start_dir, os.path.basename(name))
    return candidate if os.path.exists(candidate) else None


def notebook_link(path: str) -> dict:
    return {"type": "resource_link", "uri": f"file://{path}", "name": os.path.basename(path),
            "title": f"The notebook {os.path.basename(path)}", "mime_type": NOTEBOOK_MIME}


def kernel_id() -> str | None:
    """This kernel's id on its Jupyter server (its connection file is kernel-<id>.json)."""
    try:
        from ipykernel.connect import get_connection_file

        name = os.path.basename(get_connection_file())
    except Exception:  # not an ipykernel, or not running as one
        return None
    match = re.fullmatch(r"kernel-(.+)\.json", name)
    return match.group(1) if match else None


def current_cell_id(shell) -> str | None:
    kernel = getattr(shell, "kernel", None)
    try:
        parent = kernel.get_parent("shell") if kernel is not None else None
    except Exception:  # an older or foreign kernel
        return None
    return ((parent or {}).get("metadata") or {}).get("cellId")


def saved_cells_block(path: str, upto_cell_id: str | None = None) -> dict:
    """The notebook's code cells as saved, as one Python text (``# %%`` between cells), up to
    and without the cell `upto_cell_id` when it is found."""
    with open(path, encoding="utf-8") as file:
        cells = json.load(file).get("cells") or []
    parts, stopped = [], False
    for position, cell in enumerate(cells, 1):
        if upto_cell_id and cell.get("id") == upto_cell_id:
            stopped = True
            break
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source") or ""
        source = "".join(source) if isinstance(source, list) else str(source)
        parts.append(f"# %% cell {position}\n{source.rstrip()}\n")
    text = "\n".join(parts)
    if len(text) > CELLS_CHARS:
        text = text[:CELLS_CHARS] + "\n# … (the rest of the notebook was cut)\n"
    name = os.path.basename(path)
    which = "cells above the current one" if stopped else "code cells"
    return {"type": "resource", "uri": f"file://{path}#cells", "name": f"{name} cells",
            "title": f"The {which} of {name}, as saved", "mime_type": "text/x-python", "text": text}


def parse_cell_spec(spec: str) -> list[int]:
    """"3,5-7" → [3, 5, 6, 7]; ValueError for anything else."""
    if not CELL_SPEC.match(spec):
        raise ValueError(f"--cells takes execution counts like 3 or 2-5,8, not {spec!r}")
    numbers: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        low, high = int(first), int(last or first)
        if high < low or high - low > 200:
            raise ValueError(f"--cells: {part} is not a usable range")
        numbers.extend(range(low, high + 1))
    return list(dict.fromkeys(numbers))


def executed_cells(shell, numbers: list[int]) -> list[dict]:
    """What this kernel ran as In[n], one block per cell; ValueError for counts it never ran."""
    manager = getattr(shell, "history_manager", None)
    history = list(getattr(manager, "input_hist_raw", None) or getattr(shell, "user_ns", {}).get("In") or [])
    missing = [n for n in numbers if not 0 < n < len(history)]
    if missing:
        raise ValueError("this kernel has not run In[" + "], In[".join(map(str, missing)) + "]"
                         + (f" (it has run In[1] to In[{len(history) - 1}])" if len(history) > 1 else ""))
    return [{"type": "resource", "uri": CELL_URI.format(n=n), "name": f"In[{n}]",
             "title": f"The cell run as In[{n}]", "mime_type": "text/x-python", "text": history[n]}
            for n in numbers]
