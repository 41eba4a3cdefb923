"""The portal's parts that need no hub: where it listens, what it remembers, how it reads the hub."""

from __future__ import annotations

import pytest

from glue_jupyter.hub.app import GluePortal
from glue_jupyter.hub.hubapi import HubServer, server_path
from glue_jupyter.hub.servers import LastSeen, Seen, ServerClient


@pytest.mark.parametrize("url, ip, port", [
    ("http://127.0.0.1:10101", "127.0.0.1", 10101),
    ("http://hub:8181", "0.0.0.0", 8181),  # Kubernetes: the hub Service's name is not bindable
    ("http://localhost:99/", "127.0.0.1", 99),
])
def test_where_the_portal_listens(url, ip, port):
    portal = GluePortal(url=url)
    assert (portal.ip, portal.port) == (ip, port)


def test_the_service_environment_configures_the_portal(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/jhub/services/agents")
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://10.0.0.2:8081/jhub/hub/api")
    portal = GluePortal()
    assert (portal.port, portal.base_url, portal.hub_api_url) == (
        9999, "/jhub/services/agents/", "http://10.0.0.2:8081/jhub/hub/api")


def test_what_stopped_servers_said_is_remembered_within_a_bound():
    memory = LastSeen(limit=2)
    for name in ("a", "b", "c"):
        memory.remember(("alice", name), Seen(info={}, sessions=[{"id": name}], at=1.0))
    assert memory.recall(("alice", "a")) is None  # the oldest went first
    assert memory.recall(("alice", "c")).sessions == [{"id": "c"}]


@pytest.mark.parametrize("model, state", [
    ({"ready": True, "pending": None}, "running"),
    ({"ready": False, "pending": "spawn"}, "starting"),
    ({"ready": True, "pending": "stop"}, "stopping"),
    ({"ready": False, "pending": None}, "stopped"),
])
def test_server_states_from_the_hubs_model(model, state):
    assert HubServer.from_model("alice", {"name": "", "url": "/user/alice/", **model}).state == state


def test_servers_are_reached_where_the_proxy_routes_them():
    client = ServerClient(http=None, timeout=1)
    server = HubServer.from_model("alice", {"name": "gpu", "url": "/user/alice/gpu/", "ready": True})
    assert client.base_url(server, {"/user/alice/gpu/": "http://10.1.2.3:8888"}) == \
        "http://10.1.2.3:8888/user/alice/gpu/"
    assert client.base_url(server, {}) is None  # unknown: said so, never guessed
    with_proxy = ServerClient(http=None, timeout=1, proxy_url="http://proxy-public/")
    assert with_proxy.base_url(server, None) == "http://proxy-public/user/alice/gpu/"
    # With subdomains the hub gives full URLs and the proxy's route specs carry the host.
    subdomain = HubServer.from_model("bob", {"name": "", "url": "https://bob.hub.example.org/user/bob/"})
    assert server_path(subdomain) == "/user/bob/"
