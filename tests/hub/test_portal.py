"""The portal on a real JupyterHub: one place for a user's sessions on every server of theirs,
controls forwarded with their own token, nobody else's sessions, admins see all, a stopped or
silent server shown as such without holding up the others."""

from __future__ import annotations

import os
import signal
import time

import psutil
from hub_fixtures import Hub


def listed(hub: Hub, token: str) -> dict[tuple[str, str], dict]:
    """The portal's listing, by (user, server name)."""
    return {(s["user"], s["name"]): s for s in hub.portal("GET", "api/sessions", token)["servers"]}


def ids(server: dict) -> set[str]:
    return {s["id"] for s in server["sessions"]}


def portal_path(user: str, server: str, sid: str, *rest: str) -> str:
    where = f"api/users/{user}" + (f"/servers/{server}" if server else "")
    return "/".join([where, "sessions", sid, *rest])


# -- one place for all of a user's servers ---------------------------------------------------


def test_a_user_sees_their_sessions_on_every_server_and_only_theirs(hub, tokens, started):
    main = started("alice")
    side = started("alice", server="lab2")
    bobs = started("bob")

    mine = listed(hub, tokens["alice"])
    assert set(mine) == {("alice", ""), ("alice", "lab2")}
    assert main["id"] in ids(mine[("alice", "")]) and side["id"] in ids(mine[("alice", "lab2")])
    for server in mine.values():
        assert server["state"] == "running" and not server["stale"]
        assert server["info"]["limit"] == 3  # alice's limit, set by the hub's spawner
    row = next(s for s in mine[("alice", "")]["sessions"] if s["id"] == main["id"])
    assert {"state", "agent", "cwd", "updated_at", "pending_permissions"} <= set(row)

    theirs = listed(hub, tokens["bob"])
    assert set(theirs) == {("bob", "")} and bobs["id"] in ids(theirs[("bob", "")])
    assert hub.portal("GET", "api/sessions", tokens["bob"])["everyone"] is False


def test_a_glue_admin_sees_every_users_sessions(hub, tokens, started):
    alices = started("alice", server="lab2")
    bobs = started("bob")
    everyone = hub.portal("GET", "api/sessions", tokens["carol"])
    assert everyone["everyone"] is True
    servers = {(s["user"], s["name"]): s for s in everyone["servers"]}
    assert {("alice", ""), ("alice", "lab2"), ("bob", ""), ("carol", "")} <= set(servers)
    assert alices["id"] in ids(servers[("alice", "lab2")]) and bobs["id"] in ids(servers[("bob", "")])
    assert servers[("carol", "")]["state"] == "stopped"  # never started: offered, not hidden
    # …and may steer them, through the portal, with the scopes the hub gave the admin role.
    paused = hub.portal("POST", portal_path("bob", "", bobs["id"], "pause"), tokens["carol"], {})
    assert paused["state"] == "paused"


def test_controls_reach_the_server_where_the_session_lives(hub, tokens, started):
    sid = started("alice", prompt="sleep", server="lab2")["id"]
    hub.wait_session("alice", tokens["alice"], sid, lambda s: s["state"] == "running", "the turn", server="lab2")

    def control(verb: str, **body) -> dict:
        return hub.portal("POST", portal_path("alice", "lab2", sid, verb), tokens["alice"], body)

    assert control("interrupt")["state"] == "idle"
    assert control("pause")["state"] == "paused"
    assert control("resume")["state"] == "idle"
    assert control("stop")["state"] == "stopped"
    resumed = control("resume", prompt="quick")
    assert resumed["resumed_via"] in ("native", "seeded")
    # The server itself agrees: the portal forwarded, it holds nothing of its own.
    on_server = hub.glue("GET", "alice", f"sessions/{sid}", tokens["alice"], server="lab2")
    assert on_server["turns"] == 2 and on_server["resumed_via"] == resumed["resumed_via"]


def test_an_illegal_control_is_refused_with_the_servers_own_message(hub, tokens, started):
    sid = started("alice")["id"]
    hub.wait_session("alice", tokens["alice"], sid, lambda s: s["state"] == "idle", "idle")
    reply = hub.portal("POST", portal_path("alice", "", sid, "interrupt"), tokens["alice"], {}, expect=409)
    assert "idle" in reply["message"] and "no turn in progress" in reply["message"].lower()
    missing = hub.portal("POST", portal_path("alice", "", "0" * 32, "stop"), tokens["alice"], {}, expect=404)
    assert "0" * 8 in missing["message"]
    nowhere = hub.portal("POST", portal_path("alice", "gpu", sid, "stop"), tokens["alice"], {}, expect=404)
    assert "no server named 'gpu'" in nowhere["message"]
    bad = hub.http.post(f"{hub.url}services/glue/{portal_path('alice', '', sid, 'stop')}", content=b"[1",
                        headers={"Authorization": f"token {tokens['alice']}"})
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["message"]


def test_a_permission_is_answered_through_the_portal(hub, tokens, started):
    sid = started("alice", prompt="write from-portal.txt")["id"]
    hub.wait_session("alice", tokens["alice"], sid, lambda s: s["pending_permissions"] == 1, "the request")
    row = next(s for s in listed(hub, tokens["alice"])[("alice", "")]["sessions"] if s["id"] == sid)
    assert row["pending_permissions"] == 1 and row.get("needs_you", "permission") == "permission"

    waiting = hub.portal("GET", portal_path("alice", "", sid, "permissions"), tokens["alice"])["requests"]
    assert len(waiting) == 1 and "from-portal.txt" in waiting[0]["tool_call"]["title"]
    allow = next(o for o in waiting[0]["options"] if o["kind"].startswith("allow"))
    hub.portal("POST", portal_path("alice", "", sid, "permissions", waiting[0]["request_id"]),
               tokens["alice"], {"option_id": allow["option_id"]})
    hub.wait_session("alice", tokens["alice"], sid, lambda s: s["state"] == "idle", "the turn to end")
    assert (hub.home / "users" / "alice" / "from-portal.txt").exists()  # in alice's own home


# -- isolation -------------------------------------------------------------------------------


def test_nobody_reads_or_steers_another_users_sessions_even_knowing_the_id(hub, tokens, started):
    secret = started("alice", prompt="write secret.txt")["id"]
    hub.wait_session("alice", tokens["alice"], secret, lambda s: s["pending_permissions"] == 1, "the request")

    # Through the portal: refused before anything reaches alice's server.
    for method, path, body in (("POST", portal_path("alice", "", secret, "stop"), {}),
                               ("GET", portal_path("alice", "", secret, "permissions"), None),
                               ("POST", portal_path("alice", "", secret, "permissions", "1"), {"option_id": "allow"})):
        refused = hub.portal(method, path, tokens["bob"], body, expect=403)
        assert "alice" in refused["message"]
    assert all(s["user"] == "bob" for s in hub.portal("GET", "api/sessions", tokens["bob"])["servers"])
    # Straight to alice's server through the proxy: her server refuses bob's token.
    for method, path in (("GET", "sessions"), ("GET", f"sessions/{secret}"), ("POST", f"sessions/{secret}/stop")):
        hub.glue(method, "alice", path, tokens["bob"], {} if method == "POST" else None, expect=403)
    # Not signed in at all: a JSON 403 for the API, the hub's sign-in for the page.
    anonymous = hub.http.get(f"{hub.url}services/glue/api/sessions")
    assert anonymous.status_code == 403 and "Sign in" in anonymous.json()["message"]
    page = hub.http.get(f"{hub.url}services/glue/", follow_redirects=False)
    assert page.status_code == 302 and "/hub/api/oauth2/authorize" in page.headers["location"]

    assert hub.glue("GET", "alice", f"sessions/{secret}", tokens["alice"])["state"] == "running"


def test_agent_processes_run_inside_the_users_own_server(hub, tokens, started):
    sid = started("bob", prompt="quick")["id"]
    events = hub.glue("GET", "bob", f"sessions/{sid}/events", tokens["bob"])["events"]
    agent = psutil.Process(next(e["data"]["pid"] for e in events if e["kind"] == "process_start"))
    server = psutil.Process(hub.server_pid("bob"))
    assert agent.ppid() == server.pid != hub.process.pid  # bob's single-user server's child
    assert agent.uids() == server.uids()  # its uid (with KubeSpawner: its container and pod)
    environment = agent.environ()
    assert not any(name.startswith("JUPYTERHUB_") for name in environment)  # no hub token leaks in
    assert environment.get("HOME") == str(hub.home / "users" / "bob")


# -- limits ----------------------------------------------------------------------------------


def test_each_users_limit_comes_from_the_hub_and_is_reported(hub, tokens, started):
    first = started("bob")
    second = started("bob")
    third = hub.glue("POST", "bob", "sessions", tokens["bob"], {"agent": "demo"}, expect=409)
    assert "2" in third["message"]  # bob's limit, from the spawner's environment
    row = listed(hub, tokens["bob"])[("bob", "")]
    assert row["info"]["limit"] == 2 and row["info"]["active"] == 2
    hub.glue("POST", "bob", f"sessions/{first['id']}/stop", tokens["bob"], {})
    assert listed(hub, tokens["bob"])[("bob", "")]["info"]["active"] == 1
    assert second["id"] in ids(row)


# -- servers that are stopped or do not answer -----------------------------------------------


def test_a_silent_server_is_shown_as_such_and_holds_up_no_one(hub, tokens, started):
    bobs = started("bob")
    alices = started("alice")
    before = listed(hub, tokens["carol"])
    assert bobs["id"] in ids(before[("bob", "")])
    frozen = hub.server_pid("bob")
    os.kill(frozen, signal.SIGSTOP)  # alive for the hub, silent for everyone
    try:
        now = listed(hub, tokens["carol"])
        silent = now[("bob", "")]
        assert silent["state"] == "not answering" and "No answer within 1.5 s" in silent["message"]
        assert silent["stale"] and bobs["id"] in ids(silent)  # what it said last time
        assert not now[("alice", "")]["stale"] and alices["id"] in ids(now[("alice", "")])
    finally:
        os.kill(frozen, signal.SIGCONT)
    assert not listed(hub, tokens["carol"])[("bob", "")]["stale"]


def test_a_stopped_server_shows_its_sessions_as_last_seen_and_they_resume_after_a_start(hub, tokens, started):
    live = started("alice", server="lab2")
    busy = started("alice", prompt="sleep", server="lab2")
    hub.wait_session("alice", tokens["alice"], live["id"], lambda s: s["state"] == "idle", "idle", server="lab2")
    hub.wait_session("alice", tokens["alice"], busy["id"], lambda s: s["state"] == "running", "a turn", server="lab2")
    assert live["id"] in ids(listed(hub, tokens["alice"])[("alice", "lab2")])  # seen once
    events = hub.glue("GET", "alice", f"sessions/{busy['id']}/events", tokens["alice"], server="lab2")["events"]
    agent = next(e["data"]["pid"] for e in events if e["kind"] == "process_start")

    hub.stop_server("alice", "lab2")  # the spawner's SIGINT
    assert not psutil.pid_exists(agent) or psutil.Process(agent).status() == psutil.STATUS_ZOMBIE
    stopped = listed(hub, tokens["alice"])[("alice", "lab2")]
    assert stopped["state"] == "stopped" and stopped["stale"]
    assert live["id"] in ids(stopped) and stopped["seen_at"] <= time.time()
    refused = hub.portal("POST", portal_path("alice", "lab2", live["id"], "resume"), tokens["alice"], {}, expect=409)
    assert "start it first" in refused["message"]

    hub.start_server("alice", "lab2")
    back = listed(hub, tokens["alice"])[("alice", "lab2")]
    row = next(s for s in back["sessions"] if s["id"] == live["id"])
    assert not back["stale"] and row["state"] == "stopped"  # a clean stop, not a crash
    assert next(s for s in back["sessions"] if s["id"] == busy["id"])["state"] == "stopped"
    resumed = hub.portal("POST", portal_path("alice", "lab2", live["id"], "resume"), tokens["alice"], {})
    assert resumed["state"] == "idle" and resumed["resumed_via"] == "native"
