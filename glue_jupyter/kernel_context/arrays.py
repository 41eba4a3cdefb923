"""NumPy arrays: shape, dtype, memory, a few values and statistics from a bounded sample."""

from __future__ import annotations

from .table import cell, count, size

SAMPLE_VALUES = 100_000
SHOWN_VALUES = 8


def describe_ndarray(name: str, array) -> tuple[str, str]:
    import numpy as np

    shape = "×".join(count(n) for n in array.shape) or "scalar"
    title = f"{name}: NumPy {type(array).__name__}, shape ({shape}), dtype {array.dtype}"
    parts = [f"{title}, {size(int(array.nbytes))}."]
    flat = array.reshape(-1) if array.flags.c_contiguous else array.flat
    total = int(array.size)
    first = [flat[i] for i in range(min(SHOWN_VALUES, total))]
    parts.append(f"First {len(first)} values (in C order): " + ", ".join(cell(v, 24) for v in first)
                 + (" …" if total > len(first) else ""))
    kind = array.dtype.kind
    if total and kind in "biufcmM":
        if total > SAMPLE_VALUES:
            positions = np.sort(np.random.default_rng(0).choice(total, size=SAMPLE_VALUES, replace=False))
            values, note = np.asarray(array.flat[positions]), f" (from a random sample of {count(SAMPLE_VALUES)} of {count(total)} values)"
        else:
            values, note = np.asarray(array).reshape(-1), ""
        stats = {"min": values.min(), "max": values.max()}
        if kind in "biufc":
            with np.errstate(all="ignore"):
                stats.update(mean=values.mean(), std=values.std())
            if kind in "fc":
                stats["NaN"] = int(np.isnan(values).sum())
        parts.append(f"Statistics{note}: " + ", ".join(f"{k} {cell(v, 24)}" for k, v in stats.items()))
    return title, "\n\n".join(parts)
