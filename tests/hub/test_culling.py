"""jupyterhub-idle-culler on a real hub: never a server mid-turn or while a permission request
waits (no browser attached, nothing streaming), always one whose sessions are all idle, paused or
stopped; after a cull the sessions come back, stopped, and resume. A portal watching the whole
time does not keep anything alive."""

from __future__ import annotations

import psutil
import pytest
from hub_fixtures import running_hub, until

CULL_TIMEOUT = 6  # seconds of inactivity; servers report activity every 1 s, the culler looks every 1 s


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with running_hub(tmp_path_factory.mktemp("hub"), cull_timeout=CULL_TIMEOUT) as hub:
        yield hub


@pytest.fixture(scope="module")
def tokens(hub) -> dict[str, str]:
    return hub.tokens()


def session(hub, user: str, token: str, prompt: str | None = None) -> str:
    body = {"agent": "demo", **({"prompt": prompt} if prompt else {})}
    return hub.glue("POST", user, "sessions", token, body, expect=201)["id"]


def agent_pids(hub, user: str, token: str, sid: str) -> list[int]:
    events = hub.glue("GET", user, f"sessions/{sid}/events", token)["events"]
    return [e["data"]["pid"] for e in events if e["kind"] == "process_start"]


def gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def portal_view(hub, token: str, user: str) -> dict:
    servers = hub.portal("GET", "api/sessions", token)["servers"]
    return next(s for s in servers if s["user"] == user and s["name"] == "")


def test_a_waiting_turn_is_never_culled_and_idle_servers_are(hub, tokens):
    alice, bob, carol = tokens["alice"], tokens["bob"], tokens["carol"]
    hub.start_servers(("alice", ""), ("bob", ""))

    # alice: a turn that waits for her answer, silently: no output, no state change, no browser.
    asking = session(hub, "alice", alice, "write later.txt")
    hub.wait_session("alice", alice, asking, lambda s: s["pending_permissions"] == 1, "alice's request")

    # bob, after alice: sessions idle, paused and stopped.
    idle = session(hub, "bob", bob, "quick")
    paused = session(hub, "bob", bob)
    hub.wait_session("bob", bob, paused, lambda s: s["state"] == "idle", "bob's session to start")
    hub.glue("POST", "bob", f"sessions/{paused}/pause", bob, {})  # frees its slot (bob has 2)
    stopped = session(hub, "bob", bob)
    hub.glue("POST", "bob", f"sessions/{stopped}/stop", bob, {})
    hub.wait_session("bob", bob, idle, lambda s: s["state"] == "idle", "bob's turn to end")
    bobs_agents = agent_pids(hub, "bob", bob, idle) + agent_pids(hub, "bob", bob, paused)

    # Watched through the portal all along (carol sees everyone): its polls are not activity.
    culled = until(lambda: (view := portal_view(hub, carol, "bob"))["state"] == "stopped" and view,
                   "bob's idle server to be culled", timeout=90, every=0.5)
    # alice went quiet before bob did, yet her server is spared: her waiting turn is activity.
    assert hub.server_model("alice")["ready"]
    spared = hub.glue("GET", "alice", f"sessions/{asking}", alice)
    assert spared["state"] == "running" and spared["pending_permissions"] == 1

    # bob's server stopped cleanly (the spawner's SIGINT): no agent left, his sessions as last seen.
    assert all(gone(pid) for pid in bobs_agents)
    assert culled["stale"] and {idle, paused, stopped} <= {s["id"] for s in culled["sessions"]}

    hub.start_server("bob")
    back = {s["id"]: s["state"] for s in hub.glue("GET", "bob", "sessions", bob)["sessions"]}
    assert back == {idle: "stopped", paused: "stopped", stopped: "stopped"}
    for sid in (idle, paused):
        resumed = hub.glue("POST", "bob", f"sessions/{sid}/resume", bob, {"prompt": "recall"})
        assert resumed["resumed_via"] in ("native", "seeded")
        hub.wait_session("bob", bob, sid, lambda s: s["state"] == "idle", "the resumed turn")


def test_once_the_turn_is_answered_and_done_the_server_is_culled(hub, tokens):
    alice = tokens["alice"]
    asking = next(s["id"] for s in hub.glue("GET", "alice", "sessions", alice)["sessions"]
                  if s["pending_permissions"] == 1)
    request = next(e["data"] for e in hub.glue("GET", "alice", f"sessions/{asking}/events", alice)["events"]
                   if e["kind"] == "permission_request")
    hub.glue("POST", "alice", f"sessions/{asking}/permissions/{request['request_id']}", alice,
             {"option_id": "allow"})
    hub.wait_session("alice", alice, asking, lambda s: s["state"] == "idle", "the turn to end")
    hub.wait_stopped("alice", timeout=90)
    assert (hub.home / "users" / "alice" / "later.txt").exists()
