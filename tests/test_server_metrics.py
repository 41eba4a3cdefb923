"""Prometheus metrics on the server's own `/metrics`: what operations would watch.

Counters and histograms are process-wide (one registry, as in production), so each test reads
them before and after and checks the difference.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families


class Scrape(dict):
    """`/metrics` as {(sample name, frozenset of labels): value}."""

    def get_value(self, name: str, **labels) -> float:
        return self.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def scrape(jp_fetch):
    async def read() -> Scrape:
        response = await jp_fetch("metrics")
        samples = Scrape()
        for family in text_string_to_metric_families(response.body.decode()):
            for sample in family.samples:
                samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
        return samples

    return read


async def test_metrics_need_credentials(jp_fetch):
    from tornado.httpclient import HTTPClientError

    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("metrics", headers={"Authorization": ""})
    assert refused.value.code == 403


async def test_sessions_by_state_and_agent_processes_and_waiting_permissions(glue_api, scrape):
    idle = (await glue_api.start())["id"]
    await glue_api.wait_for(idle, "idle")
    asking = (await glue_api.start(prompt="write notes.txt"))["id"]
    await glue_api.wait_for(asking, lambda s: s["pending_permissions"] == 1)
    paused = (await glue_api.start(agent="demo-slow"))["id"]
    await glue_api.wait_for(paused, "idle")
    await glue_api.control(paused, "pause")

    now = await scrape()
    assert now.get_value("glue_sessions", state="idle", agent="demo") == 1
    assert now.get_value("glue_sessions", state="running", agent="demo") == 1
    assert now.get_value("glue_sessions", state="paused", agent="demo-slow") == 1
    assert now.get_value("glue_sessions", state="stopped", agent="demo") == 0  # zeros, not gaps
    assert ("glue_sessions", frozenset({"state": "stopped", "agent": "demo"}.items())) in now
    assert now.get_value("glue_agent_processes", agent="demo") == 2
    assert now.get_value("glue_agent_processes", agent="demo-slow") == 1  # frozen, still alive
    assert now.get_value("glue_permission_requests_waiting", agent="demo") == 1
    assert now.get_value("glue_permission_request_oldest_wait_seconds") > 0

    request = next(e["data"] for e in await glue_api.events(asking) if e["kind"] == "permission_request")
    await glue_api.ok("POST", "sessions", asking, "permissions", request["request_id"],
                      body={"option_id": "allow"})
    await glue_api.control(paused, "stop")
    after = await scrape()
    assert after.get_value("glue_permission_requests_waiting", agent="demo") == 0
    assert after.get_value("glue_permission_request_oldest_wait_seconds") == 0
    assert after.get_value("glue_sessions", state="stopped", agent="demo-slow") == 1
    assert after.get_value("glue_agent_processes", agent="demo-slow") == 0
    answered = ("glue_permission_wait_seconds_count", "demo", "answered")
    assert after.get_value(answered[0], agent="demo", outcome="answered") == \
        now.get_value(answered[0], agent="demo", outcome="answered") + 1


async def test_turns_controls_and_exits_are_counted(glue_api, scrape):
    before = await scrape()
    sid = (await glue_api.start(prompt="sleep"))["id"]
    await glue_api.wait_for(sid, "running")
    await glue_api.control(sid, "interrupt")
    await glue_api.control(sid, "interrupt", expect=409)  # idle now: refused
    await glue_api.control(sid, "prompt", text="quick")
    await glue_api.wait_for(sid, "idle")
    await glue_api.control(sid, "stop")
    crashing = (await glue_api.start(prompt="crash"))["id"]
    await glue_api.wait_for(crashing, "failed")
    after = await scrape()

    def grew(name: str, **labels) -> float:
        return after.get_value(name, **labels) - before.get_value(name, **labels)

    assert grew("glue_turns_total", agent="demo", stop_reason="cancelled") == 1
    assert grew("glue_turns_total", agent="demo", stop_reason="end_turn") == 1
    assert grew("glue_turns_total", agent="demo", stop_reason="failed") == 1
    assert grew("glue_turn_duration_seconds_count", agent="demo") == 3
    assert grew("glue_control_duration_seconds_count", control="interrupt", outcome="ok") == 1
    assert grew("glue_control_duration_seconds_count", control="interrupt", outcome="refused") == 1
    assert grew("glue_control_duration_seconds_count", control="start", outcome="ok") == 2
    assert grew("glue_control_duration_seconds_count", control="stop", outcome="ok") == 1
    # An interrupt returns once the turn ended: its latency is real, and bucketed.
    assert grew("glue_control_duration_seconds_sum", control="interrupt", outcome="ok") > 0
    assert grew("glue_control_duration_seconds_bucket", control="interrupt", outcome="ok", le="+Inf") == 1
    assert grew("glue_agent_exits_total", agent="demo", requested="true") == 1
    assert grew("glue_agent_exits_total", agent="demo", requested="false") == 1
    assert after.get_value("glue_sessions", state="failed", agent="demo") == 1
