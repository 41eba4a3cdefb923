"""Size and time bounds for describing large data without holding up the kernel."""

from __future__ import annotations

import time

SAMPLE_ROWS = 5_000           # statistics of larger frames come from a random sample this big
HEAD_ROWS = 5
MAX_COLUMNS = 40              # columns shown in tables; the rest are counted
MAX_DTYPE_COLUMNS = 200       # columns listed with their dtype
STATS_SECONDS = 0.04          # statistics stop here; what is left is named as skipped
FULL_SCAN_CELLS = 2_000_000   # below this, missing values are counted over the whole frame
DESCRIPTION_CHARS = 24_000    # one variable's description, at most


class Clock:
    """Time spent since creation, against a budget."""

    def __init__(self, seconds: float = STATS_SECONDS):
        self.started = time.perf_counter()
        self.seconds = seconds

    @property
    def spent(self) -> bool:
        return time.perf_counter() - self.started > self.seconds


def sample_positions(rows: int, size: int = SAMPLE_ROWS, seed: int = 0):
    """Sorted row positions of a reproducible random sample (NumPy is there: the data is)."""
    import numpy as np

    return np.sort(np.random.default_rng(seed).choice(rows, size=min(size, rows), replace=False))
