"""Run the user's code (a ``__repr__``) only under a time limit, and keep what it says short.

In the kernel's main thread a SIGALRM interval timer interrupts a slow ``__repr__`` between
two bytecodes; elsewhere (a worker thread, or a user who runs their own SIGALRM timer) the
call runs in a daemon thread and is abandoned when late. Either way the caller gets an
answer within about the limit.
"""

from __future__ import annotations

import reprlib
import signal
import threading
from typing import Callable, TypeVar

T = TypeVar("T")
REPR_TIMEOUT = 0.1
REPR_CHARS = 2000


class TooSlow(BaseException):
    """The guarded call did not finish within its time limit. A BaseException, so that the
    user's code (or reprlib, which forgives a failing repr) cannot swallow it and go on."""


def _alarm() -> bool:
    """Whether a SIGALRM timer is ours to use here (main thread, no user timer running)."""
    return (threading.current_thread() is threading.main_thread()
            and hasattr(signal, "setitimer") and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))


def call_with_limit(fn: Callable[[], T], seconds: float) -> T:
    """fn(), or TooSlow once `seconds` have passed (its exceptions propagate)."""
    if _alarm():
        def expired(signum, frame):
            raise TooSlow(f"took longer than {seconds:g} s")

        previous = signal.signal(signal.SIGALRM, expired)
        try:
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                return fn()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, previous)
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed over to the caller
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="glue-guarded-repr", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TooSlow(f"took longer than {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class _ShortRepr(reprlib.Repr):
    def __init__(self):
        super().__init__()
        self.maxlevel = 3
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdeque = 12
        self.maxdict = 12
        self.maxstring = 300
        self.maxlong = 60
        self.maxother = 300


_short = _ShortRepr()


def safe_repr(value, limit: int = REPR_CHARS, timeout: float = REPR_TIMEOUT) -> str:
    """A bounded repr: containers abbreviated, each item's repr cut, the whole within `limit`
    characters and `timeout` seconds; a failing or slow repr is named, not raised."""
    try:
        text = call_with_limit(lambda: _short.repr(value), timeout)
    except TooSlow:
        return f"<{type_name(value)}: its repr took longer than {timeout:g} s>"
    except Exception as exc:  # a broken __repr__ is the object's problem, not ours
        return f"<{type_name(value)}: its repr raised {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def type_name(value) -> str:
    """module.QualName of the value's type, read from the type itself (never the instance)."""
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", kind.__name__)
    if "<locals>" in name:  # a class made inside a function: its own name says enough
        name = kind.__name__
    return name if module == "builtins" else f"{module}.{name}"
