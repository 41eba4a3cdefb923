"""Kernel context benchmark: how long describing a variable holds up the kernel.

    .venv/bin/python benchmarks/kernel_context.py [--rounds 5] [--rows 10000000]

`%%glue --with df` runs `describe_variable` in the kernel's main thread, so its duration is
how long the kernel is busy. Measured on a 10-million-row pandas DataFrame of five columns
(text, integers, floats, timestamps, booleans), next to references timed in the same run on
the same frame: pandas' own `repr(df)`, `df.head()` and `df.describe()` (the summary a user
would otherwise print). Also: a very wide frame, a polars frame and a NumPy array of the same
size, and a `list` of 10 million items. Target: every description within ~100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from glue_jupyter.kernel_context import describe_variable

TARGET_MS = 100


def median_ms(fn, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def sales_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "region": rng.choice(["north", "south", "east", "west"], rows),
        "units": rng.integers(0, 100, rows),
        "price": rng.random(rows) * 10,
        "when": pd.date_range("2020-01-01", periods=rows, freq="s"),
        "returned": rng.random(rows) > 0.9,
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    rows, rounds = args.rows, args.rounds
    print(f"building a {rows:,}-row DataFrame…", flush=True)
    df = sales_frame(rows)
    rows_out = [
        ("pandas DataFrame, 5 columns", lambda: describe_variable("df", df), [
            ("repr(df)", lambda: repr(df)),
            ("df.head()", lambda: repr(df.head())),
            ("df.describe()", lambda: df.describe(include="all")),
        ]),
    ]
    wide = pd.DataFrame(np.zeros((rows // 1000, 10_000), dtype=np.float32))
    rows_out.append((f"pandas DataFrame, {rows // 1000:,} × 10,000", lambda: describe_variable("wide", wide),
                     [("wide.describe()", lambda: wide.describe())]))
    try:
        import polars as pl

        pf = pl.DataFrame({"region": df["region"].to_numpy().astype(str), "units": df["units"].to_numpy(),
                           "price": df["price"].to_numpy(), "returned": df["returned"].to_numpy()})
        rows_out.append(("polars DataFrame, 4 columns", lambda: describe_variable("pf", pf),
                         [("pf.describe()", lambda: pf.describe())]))
    except ImportError:
        print("(polars not installed: skipped)")
    array = np.random.default_rng(0).random((rows, 3))
    rows_out.append((f"NumPy array {rows:,} × 3", lambda: describe_variable("array", array),
                     [("array.mean(axis=0)", lambda: array.mean(axis=0))]))
    items = list(range(rows))
    rows_out.append((f"list of {rows:,} ints", lambda: describe_variable("items", items),
                     [("repr(items)", lambda: repr(items))]))

    print(f"\nmedian of {rounds} rounds; target: each description ≤ {TARGET_MS} ms\n")
    print(f"{'value':34} {'describe_variable':>18}   reference (same run)")
    worst = 0.0
    for label, ours, references in rows_out:
        ours_ms = median_ms(ours, rounds)
        worst = max(worst, ours_ms)
        refs = ", ".join(f"{name} {median_ms(fn, max(1, rounds // 2)):,.0f} ms" for name, fn in references)
        print(f"{label:34} {ours_ms:15.1f} ms   {refs}")
    verdict = "met" if worst <= TARGET_MS else "MISSED"
    print(f"\nslowest description: {worst:.1f} ms (target ≤ {TARGET_MS} ms: {verdict})")
    print(f"description of df: {len(describe_variable('df', df)['text']):,} characters")


if __name__ == "__main__":
    main()
