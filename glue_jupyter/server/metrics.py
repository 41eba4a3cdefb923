"""Prometheus metrics of the sessions, served on the Jupyter server's own `/metrics`.

jupyter_server already exposes `prometheus_client`'s default registry at `/metrics`; we add to
it. Two kinds of figures:

- what is true at any moment (sessions by state and agent, live agent processes, waiting
  permission requests and the oldest one's wait) is read from the engine at scrape time by
  `SessionCensus`, so it can never drift from the truth;
- what happens once (a control's latency, a turn's end and stop reason, a permission request
  settled, an agent's exit) is pushed by the engine through `MetricsObserver`, an
  `EngineObserver`: the engine itself knows nothing of Prometheus.

Metric objects are module-level, registered once per process, as jupyter_server does.
"""

from __future__ import annotations

import weakref

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ..engine.observer import EngineObserver
from ..engine.states import State

CONTROL_SECONDS = Histogram(
    "glue_control_duration_seconds",
    "Time from a control's request to its return in the engine (interrupt: until the turn ended)",
    ["control", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
TURNS = Counter("glue_turns", "Turns ended, by agent and stop reason", ["agent", "stop_reason"])
TURN_SECONDS = Histogram(
    "glue_turn_duration_seconds", "Duration of turns, from prompt to end", ["agent"],
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
PERMISSION_WAIT_SECONDS = Histogram(
    "glue_permission_wait_seconds",
    "How long permission requests waited for the user, by outcome (answered or withdrawn)",
    ["agent", "outcome"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600),
)
AGENT_EXITS = Counter(
    "glue_agent_exits", "Agent processes that ended, on request (stop) or on their own (crash)",
    ["agent", "requested"],
)


class MetricsObserver(EngineObserver):
    def control_done(self, control: str, seconds: float, outcome: str) -> None:
        CONTROL_SECONDS.labels(control, outcome).observe(seconds)

    def turn_ended(self, agent: str, stop_reason: str, seconds: float) -> None:
        TURNS.labels(agent, stop_reason).inc()
        TURN_SECONDS.labels(agent).observe(seconds)

    def permission_settled(self, agent: str, outcome: str, seconds: float) -> None:
        PERMISSION_WAIT_SECONDS.labels(agent, outcome).observe(seconds)

    def process_exited(self, agent: str, requested: bool) -> None:
        AGENT_EXITS.labels(agent, "true" if requested else "false").inc()


class SessionCensus(Collector):
    """Gauges read from every open SessionManager of this process at scrape time."""

    def __init__(self) -> None:
        self.managers: weakref.WeakSet = weakref.WeakSet()

    def collect(self):
        sessions = GaugeMetricFamily("glue_sessions", "Sessions by state and agent", labels=["state", "agent"])
        processes = GaugeMetricFamily("glue_agent_processes", "Live agent processes (paused ones included)",
                                      labels=["agent"])
        waiting = GaugeMetricFamily("glue_permission_requests_waiting",
                                    "Permission requests waiting for the user", labels=["agent"])
        oldest = GaugeMetricFamily("glue_permission_request_oldest_wait_seconds",
                                   "How long the oldest waiting permission request has waited (0: none)")
        counts = [manager.census() for manager in list(self.managers) if manager.store is not None]
        agents = sorted({agent for c in counts for (_state, agent) in c["sessions"]})
        for agent in agents:  # every state of every agent seen, so a dashboard sees 0s, not gaps
            for state in State:
                sessions.add_metric([state.value, agent], sum(c["sessions"][(state.value, agent)] for c in counts))
            processes.add_metric([agent], sum(c["processes"][agent] for c in counts))
            waiting.add_metric([agent], sum(c["waiting"][agent] for c in counts))
        oldest.add_metric([], max((c["oldest_wait"] for c in counts), default=0.0))
        yield from (sessions, processes, waiting, oldest)


CENSUS = SessionCensus()
REGISTRY.register(CENSUS)
