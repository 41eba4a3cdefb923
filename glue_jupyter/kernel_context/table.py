"""Markdown tables of values, formatted without running the user's code.

A cell shows a value only when its exact type is one whose ``str`` we know to be harmless
(builtin scalars, dates, NumPy and pandas scalars); any other object shows as its type name.
"""

from __future__ import annotations

import datetime
import decimal
import sys

CELL_CHARS = 40
SAFE_TYPES = frozenset({str, int, float, bool, complex, bytes, type(None), decimal.Decimal,
                        datetime.date, datetime.datetime, datetime.time, datetime.timedelta})


def _library_scalars() -> frozenset:
    """pandas' own scalar types, when the user imported pandas (they say __module__ 'pandas',
    so they are named one by one; a user's subclass is not among them)."""
    pd = sys.modules.get("pandas")
    if pd is None:
        return frozenset()
    names = ("Timestamp", "Timedelta", "Period", "Interval")
    return frozenset([getattr(pd, n) for n in names if isinstance(getattr(pd, n, None), type)]
                     + [type(getattr(pd, "NaT", None)), type(getattr(pd, "NA", None))])


def is_plain(kind: type) -> bool:
    """Whether values of this exact type print and hash without running user code."""
    if kind in SAFE_TYPES:
        return True
    np = sys.modules.get("numpy")
    if np is not None and kind.__module__ == "numpy" and issubclass(kind, np.generic):
        return True
    return kind in _library_scalars()


def safe_str(value) -> str | None:
    """str(value) when that runs no user code, else None."""
    kind = type(value)
    if not is_plain(kind):
        return None
    if kind is float or kind.__name__ in ("float64", "float32", "float16"):
        return f"{value:.6g}"
    return str(value)


def cell(value, limit: int = CELL_CHARS) -> str:
    text = safe_str(value)
    if text is None:
        text = f"<{type(value).__qualname__}>"
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def markdown(header: list, rows: list[list]) -> str:
    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def count(n: int) -> str:
    return f"{n:,}"


def size(nbytes: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} B"
