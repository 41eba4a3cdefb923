"""pandas and polars DataFrames and Series: shape, dtypes, a head, statistics — bounded.

Statistics of a frame longer than SAMPLE_ROWS come from a reproducible random sample, and
stop when their time budget is spent, so a 10-million-row frame is described in tens of
milliseconds. Object columns get statistics only when every sampled value is of a type whose
hashing and printing run no user code.
"""

from __future__ import annotations

from .budget import (FULL_SCAN_CELLS, HEAD_ROWS, MAX_COLUMNS, MAX_DTYPE_COLUMNS, SAMPLE_ROWS, Clock,
                     sample_positions)
from .table import cell, count, is_plain, markdown, size


def _only_safe(values) -> bool:
    return all(is_plain(kind) for kind in set(map(type, values)))


def _stats_table(stats: list[tuple[str, dict]], kinds: list[str]) -> str:
    rows = [[name] + [s.get(k, "") for k in kinds] for name, s in stats]
    return markdown(["column", *kinds], rows)


# -- pandas -----------------------------------------------------------------------------------

MEASURED_COLUMNS = 1000
NUMERIC_STATS = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]
OTHER_STATS = ["count", "unique", "top", "freq"]


def _pandas_sample(frame):
    """The listed columns' rows, or a random sample of them for a long frame."""
    rows = len(frame)
    listed = frame.iloc[:, :MAX_DTYPE_COLUMNS]  # a very wide frame is never copied whole
    if rows <= SAMPLE_ROWS:
        return listed, ""
    sample = listed.take(sample_positions(rows))
    return sample, f" (from a random sample of {count(len(sample))} of {count(rows)} rows)"


def _pandas_column_stats(series) -> tuple[dict | None, bool]:
    """(statistics, numeric?) of one sampled column, or (None, …) when it holds objects."""
    import pandas as pd

    kind = series.dtype
    numeric = pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind)
    if kind == object and not _only_safe(series.dropna().to_numpy()):
        return None, False
    described = series.describe()
    return {k: described[k] for k in described.index}, numeric or pd.api.types.is_datetime64_any_dtype(kind)


def describe_pandas_frame(name: str, frame) -> tuple[str, str]:
    rows, columns = frame.shape
    title = f"{name}: pandas DataFrame, {count(rows)} rows × {count(columns)} columns"
    parts = [f"{title}."]
    if columns <= MEASURED_COLUMNS:  # pandas measures column by column: slow for very wide frames
        memory = int(frame.memory_usage(index=True, deep=False).sum())
        parts = [f"{title}, {size(memory)} in memory (not counting Python objects)."]
    sample, sampled = _pandas_sample(frame)
    whole = rows * min(columns, MAX_DTYPE_COLUMNS) <= FULL_SCAN_CELLS
    missing = (frame.iloc[:, :MAX_DTYPE_COLUMNS] if whole else sample).isna().sum()
    note = "" if whole else " (missing: in the sample)"
    listed = list(frame.columns[:MAX_DTYPE_COLUMNS])
    dtypes = sample.dtypes
    parts.append(f"Columns{note}:\n\n" + markdown(
        ["column", "dtype", "missing"], [[c, str(dtypes.iloc[i]), int(missing.iloc[i])] for i, c in enumerate(listed)]))
    if columns > len(listed):
        parts.append(f"… and {count(columns - len(listed))} more columns.")
    shown = list(range(min(columns, MAX_COLUMNS)))
    head = frame.iloc[:HEAD_ROWS, shown]
    parts.append(f"First {len(head)} rows:\n\n" + markdown(
        [frame.index.name or "", *head.columns], [[i, *row] for i, row in zip(head.index, head.itertuples(index=False))]))
    numeric, other, skipped, opaque = [], [], 0, []
    clock = Clock()
    for position in shown:
        column = frame.columns[position]
        if clock.spent:
            skipped += 1
            continue
        stats, is_numeric = _pandas_column_stats(sample.iloc[:, position])
        if stats is None:
            opaque.append(column)
        else:
            (numeric if is_numeric else other).append((column, stats))
    if numeric:
        parts.append(f"Statistics of numeric and date columns{sampled}:\n\n" + _stats_table(numeric, [
            k for k in NUMERIC_STATS if any(k in s for _, s in numeric)]))
    if other:
        parts.append(f"Statistics of other columns{sampled}:\n\n" + _stats_table(other, OTHER_STATS))
    if opaque:
        parts.append("No statistics for columns holding arbitrary Python objects: "
                     + ", ".join(cell(c) for c in opaque) + ".")
    if skipped:
        parts.append(f"Statistics of {skipped} more columns were skipped to keep the kernel responsive.")
    return title, "\n\n".join(parts)


def describe_pandas_series(name: str, series) -> tuple[str, str]:
    frame = series.to_frame(name=series.name if series.name is not None else name)
    title = f"{name}: pandas Series of {count(len(series))} values, dtype {series.dtype}"
    _, body = describe_pandas_frame(name, frame)
    return title, title + "\n\n" + body.split("\n\n", 1)[1]


# -- polars -----------------------------------------------------------------------------------

def describe_polars_frame(name: str, frame) -> tuple[str, str]:
    rows, columns = frame.shape
    title = f"{name}: polars DataFrame, {count(rows)} rows × {count(columns)} columns"
    parts = [f"{title}, {size(int(frame.estimated_size()))} estimated."]
    schema = list(frame.schema.items())
    parts.append("Columns:\n\n" + markdown(["column", "dtype", "nulls"], [
        [c, str(t), frame[c].null_count()] for c, t in schema[:MAX_DTYPE_COLUMNS]]))
    if columns > MAX_DTYPE_COLUMNS:
        parts.append(f"… and {count(columns - MAX_DTYPE_COLUMNS)} more columns.")
    shown = [c for c, _ in schema[:MAX_COLUMNS]]
    head = frame.select(shown).head(HEAD_ROWS)
    parts.append(f"First {head.height} rows:\n\n" + markdown(shown, [list(r) for r in head.rows()]))
    plain = [c for c, t in schema[:MAX_COLUMNS] if str(t) != "Object"]
    if plain:
        sampled, note = frame.select(plain), ""
        if rows > SAMPLE_ROWS:
            sampled = sampled.sample(n=SAMPLE_ROWS, seed=0)
            note = f" (from a random sample of {count(SAMPLE_ROWS)} of {count(rows)} rows)"
        described = sampled.describe()
        header = described.columns
        parts.append(f"Statistics{note}:\n\n" + markdown(header, [list(r) for r in described.rows()]))
    return title, "\n\n".join(parts)


def describe_polars_series(name: str, series) -> tuple[str, str]:
    title = f"{name}: polars Series of {count(len(series))} values, dtype {series.dtype}"
    _, body = describe_polars_frame(name, series.to_frame())
    return title, title + "\n\n" + body.split("\n\n", 1)[1]
