"""The last error of the kernel, for ``%glue fix``: its traceback and the failing cell's source.

The magics record each failing cell as it happens (IPython's ``post_run_cell``); an error
from before the extension was loaded is found through ``sys.last_value`` and IPython's map
from cell file names to execution counts. The traceback is plain text (no colours), its
frames and length bounded, the exception's own ``str`` run under a time limit.
"""

from __future__ import annotations

import linecache
import sys
import traceback
from dataclasses import dataclass

from .guard import TooSlow, call_with_limit, type_name

TRACEBACK_FRAMES = 30        # innermost frames kept (a RecursionError has thousands)
TRACEBACK_CHARS = 12_000
CELL_URI = "jupyter://kernel/cells/{n}"
TRACEBACK_URI = "jupyter://kernel/traceback/{n}"
OUR_CELLS = ("%glue", "%%glue")


@dataclass
class LastError:
    error: BaseException
    cell_source: str | None     # None when the failing cell is not known
    execution_count: int | None

    @property
    def summary(self) -> str:
        return _last_line(self.traceback_text())

    def traceback_text(self) -> str:
        try:
            lines = call_with_limit(lambda: traceback.format_exception(
                type(self.error), self.error, self.error.__traceback__, limit=-TRACEBACK_FRAMES), 0.2)
        except (TooSlow, Exception):
            lines = [f"{type_name(self.error)}: <its message could not be read in time>\n"]
        text = "".join(lines)
        if len(text) > TRACEBACK_CHARS:
            text = "… (earlier part cut)\n" + text[-TRACEBACK_CHARS:]
        return text

    def context(self) -> list[dict]:
        n = self.execution_count if self.execution_count is not None else "last"
        blocks = []
        if self.cell_source is not None:
            blocks.append({"type": "resource", "uri": CELL_URI.format(n=n), "name": f"In[{n}]",
                           "title": f"The cell In[{n}] that raised", "mime_type": "text/x-python",
                           "text": self.cell_source})
        text = self.traceback_text()
        blocks.append({"type": "resource", "uri": TRACEBACK_URI.format(n=n), "name": f"traceback In[{n}]",
                       "title": _last_line(text), "mime_type": "text/x-python-traceback", "text": text})
        return blocks


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "an error"


class ErrorRecorder:
    """Registered on IPython's post_run_cell: remembers the last cell that failed."""

    def __init__(self):
        self.last: LastError | None = None

    def __call__(self, result) -> None:
        error = result.error_in_exec or result.error_before_exec
        raw = getattr(result.info, "raw_cell", None) or ""
        if error is None or raw.lstrip().startswith(OUR_CELLS):
            return
        self.last = LastError(error, raw, result.execution_count)


def _from_sys(shell) -> LastError | None:
    """The error IPython showed last, and the cell it came from, without our hook."""
    error = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    if error is None:
        return None
    names = getattr(getattr(shell, "compile", None), "_filename_map", {}) or {}
    candidates = [getattr(error, "filename", None)]  # a SyntaxError names its cell
    candidates += [frame.filename for frame in traceback.extract_tb(error.__traceback__)]
    for filename in candidates:
        if filename in names:
            return LastError(error, "".join(linecache.getlines(filename)) or None, names[filename])
    return LastError(error, None, None)


def last_error(shell, recorder: ErrorRecorder | None = None) -> LastError | None:
    """The kernel's last error: the recorded one, else the one IPython kept in sys
    (glue's own refusals are not errors to fix)."""
    if recorder is not None and recorder.last is not None:
        return recorder.last
    found = _from_sys(shell)
    if found is not None and type(found.error).__module__.startswith("glue_jupyter"):
        return None
    return found
