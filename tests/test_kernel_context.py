"""Describing kernel variables runs none of the user's code beyond guarded reprs, stays within
its size bounds, and gives pandas, polars and NumPy values a useful summary. (Speed on a
10-million-row frame is measured in benchmarks/kernel_context.py, not here.)"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import polars as pl
import pytest

from glue_jupyter.kernel_context import describe_variable
from glue_jupyter.kernel_context.budget import DESCRIPTION_CHARS, SAMPLE_ROWS
from glue_jupyter.kernel_context.guard import TooSlow, call_with_limit, safe_repr
from glue_jupyter.kernel_context.mentions import mentioned_names, parse_with
from glue_jupyter.pytest_plugin import REPO_ROOT


class Hostile:
    """Every hook a describer might be tempted to call records that it ran."""

    calls: list[str] = []

    def __repr__(self):
        Hostile.calls.append("repr")
        return "Hostile()"

    def __str__(self):
        Hostile.calls.append("str")
        return "hostile"

    def __hash__(self):
        Hostile.calls.append("hash")
        return 1

    def __eq__(self, other):
        Hostile.calls.append("eq")
        return False

    def __len__(self):
        Hostile.calls.append("len")
        return 1


@pytest.fixture(autouse=True)
def reset_calls():
    Hostile.calls = []


def test_objects_inside_frames_and_arrays_are_never_printed_or_hashed():
    frame = pd.DataFrame({"thing": [Hostile(), Hostile(), None], "n": [1, 2, 3]})
    text = describe_variable("frame", frame)["text"]
    assert "| 0 | <Hostile> | 1 |" in text
    assert "No statistics for columns holding arbitrary Python objects: thing." in text
    describe_variable("array", np.array([Hostile(), Hostile()], dtype=object))
    describe_variable("series", pd.Series([Hostile()]))
    assert Hostile.calls == []


def test_an_object_column_of_plain_values_gets_statistics():
    text = describe_variable("f", pd.DataFrame({"city": ["Oslo", "Lima", "Oslo"]}, dtype=object))["text"]
    assert "| city | 3 | 2 | Oslo | 2 |" in text


def test_other_objects_get_a_guarded_repr_and_nothing_else():
    block = describe_variable("h", Hostile())
    assert Hostile.calls == ["repr"] and block["title"] == "h: test_kernel_context.Hostile"
    assert "Hostile()" in block["text"]


SLOW_REPR = """
import signal, time
from glue_jupyter.kernel_context.guard import safe_repr

class Slow:
    def __repr__(self):
        time.sleep(5)
        return "late"

started = time.perf_counter()
text = safe_repr([Slow(), Slow(), Slow()], timeout=0.1)
print(text, round(time.perf_counter() - started, 2), signal.getitimer(signal.ITIMER_REAL),
      signal.getsignal(signal.SIGALRM) is signal.SIG_DFL)
"""


def test_a_slow_repr_is_interrupted_in_the_main_thread():
    """The kernel's case (and no pytest-timeout timer): a SIGALRM timer cuts the repr short."""
    out = subprocess.run([sys.executable, "-c", SLOW_REPR], cwd=REPO_ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.startswith("<list: its repr took longer than 0.1 s>"), out.stdout + out.stderr
    assert float(out.stdout.split(">")[1].split()[0]) < 1
    assert "(0.0, 0.0) True" in out.stdout  # the timer and the handler are as they were


def test_a_slow_repr_is_abandoned_in_another_thread():
    class Slow:
        def __repr__(self):
            time.sleep(5)
            return "late"

    result = {}

    def describe():
        started = time.perf_counter()
        result["text"] = safe_repr(Slow(), timeout=0.1)
        result["seconds"] = time.perf_counter() - started

    worker = threading.Thread(target=describe)
    worker.start()
    worker.join()
    assert result["text"] == "<test_kernel_context.Slow: its repr took longer than 0.1 s>"
    assert result["seconds"] < 1


def test_a_container_of_slow_reprs_takes_one_time_limit_in_all():
    class Slow:
        def __repr__(self):
            time.sleep(0.5)
            return "late"

    started = time.perf_counter()
    assert "took longer than 0.1 s" in safe_repr([Slow()] * 10, timeout=0.1)
    assert time.perf_counter() - started < 0.5


def test_a_user_alarm_is_left_alone():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    signal.setitimer(signal.ITIMER_REAL, 10)
    try:
        with pytest.raises(TooSlow):
            call_with_limit(lambda: time.sleep(1), 0.05)  # a worker thread, not the user's timer
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 8
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_broken_and_huge_reprs():
    class Broken:
        def __repr__(self):
            raise RuntimeError("no")

    assert safe_repr(Broken()).startswith("<Broken instance at 0x")  # reprlib names it
    assert len(safe_repr(list(range(10**6)))) < 200  # abbreviated, not built in full
    text = describe_variable("s", "x" * 10**6)
    assert text["title"] == "s: str of 1,000,000 characters" and len(text["text"]) < 1000


def test_large_frames_are_sampled_and_bounded():
    rows = SAMPLE_ROWS * 5
    frame = pd.DataFrame(np.arange(rows * 300, dtype=float).reshape(rows, 300))
    block = describe_variable("wide", frame)
    assert block["title"] == f"wide: pandas DataFrame, {rows:,} rows × 300 columns"
    assert f"(from a random sample of {SAMPLE_ROWS:,} of {rows:,} rows)" in block["text"]
    assert "… and 100 more columns." in block["text"]  # dtypes of the first 200
    assert len(block["text"]) <= DESCRIPTION_CHARS


def test_pandas_series_dates_and_categories():
    frame = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=4, freq="D"),
                          "kind": pd.Categorical(["a", "b", "a", "a"])})
    text = describe_variable("f", frame)["text"]
    assert "| 0 | 2024-01-01 00:00:00 | a |" in text
    assert "| kind | 4 | 2 | a | 3 |" in text
    series = describe_variable("units", pd.Series([1, 2, None], name="units"))
    assert series["title"] == "units: pandas Series of 3 values, dtype float64"
    assert "| units | float64 | 1 |" in series["text"]


def test_polars_frames_and_series():
    frame = pl.DataFrame({"region": ["north", "south", None], "units": [3, 5, 8]})
    block = describe_variable("pf", frame)
    assert block["title"] == "pf: polars DataFrame, 3 rows × 2 columns"
    assert "| region | String | 1 |" in block["text"] and "| south | 5 |" in block["text"]
    assert "| mean |" in block["text"]
    assert describe_variable("ps", frame["units"])["title"] == "ps: polars Series of 3 values, dtype Int64"


def test_numpy_arrays():
    block = describe_variable("a", np.array([[1.0, np.nan], [3.0, 4.0]]))
    assert block["title"] == "a: NumPy ndarray, shape (2×2), dtype float64"
    assert "First 4 values (in C order): 1, nan, 3, 4" in block["text"]
    assert "NaN 1" in block["text"]
    fortran = describe_variable("f", np.asfortranarray(np.arange(6).reshape(2, 3)))
    assert "0, 1, 2, 3, 4, 5" in fortran["text"]


def test_mentions_and_with():
    namespace = {"df": 1, "model": 2}
    assert mentioned_names("compare @df with @model, not @nothing nor me@df.org; @df again", namespace) == \
        ["df", "model"]
    assert parse_with("df, model df") == ["df", "model"]
    with pytest.raises(ValueError, match="not a name: class, 1x"):
        parse_with("df,class,1x")
