"""What the engine reports as it works, for whoever watches it (the server's Prometheus metrics).

The engine calls these hooks and never learns who listens: it imports nothing of Jupyter or
Prometheus. The base class does nothing, so an observer overrides only what it needs. Hooks run
on the engine's event loop, synchronously: they must be cheap and must not raise.

What can be read at any moment (sessions by state, live agent processes, waiting permission
requests) is read from the manager when asked, not pushed here; these hooks carry what happens
once: a control's latency, a turn's end, a permission request settled, an agent's exit.
"""

from __future__ import annotations


class EngineObserver:
    def control_done(self, control: str, seconds: float, outcome: str) -> None:
        """A control returned. `outcome`: "ok", "refused" (a GlueError for the user) or "error"."""

    def turn_ended(self, agent: str, stop_reason: str, seconds: float) -> None:
        """A turn ended with `stop_reason` (contract: end_turn, cancelled, failed, stopped, …)."""

    def permission_settled(self, agent: str, outcome: str, seconds: float) -> None:
        """A permission request waited `seconds` for the user. `outcome`: "answered" or
        "withdrawn" (interrupt, stop, or the agent died). Requests the policy answers never wait."""

    def process_exited(self, agent: str, requested: bool) -> None:
        """An agent process ended: on request (stop, escalation) or on its own (a crash)."""


# The observer of a manager nobody watches.
NO_OBSERVER = EngineObserver()
