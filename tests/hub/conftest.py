"""pytest wiring for the hub tests: they need jupyterhub, jupyterhub-idle-culler and
configurable-http-proxy (`./dev test` installs it outside the repo); in CI a missing one fails,
elsewhere the tests are skipped and -ra says why. The hub itself is in hub_fixtures.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hub_fixtures import end_hub, find_proxy, launch_hub


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    reason = None
    try:
        import jupyterhub  # noqa: F401
        import jupyterhub_idle_culler  # noqa: F401
    except ImportError as e:
        reason = f"{e.name} is not installed (pip install -e '.[test]')"
    if reason is None and find_proxy() is None:
        reason = "configurable-http-proxy is missing (`./dev test` installs it into ~/.cache/glue_jupyter/npm-tools)"
    if reason and os.environ.get("CI"):
        raise pytest.UsageError(f"JupyterHub tests cannot run: {reason}")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.hub)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_configure(config):
    config.addinivalue_line("markers", "hub: runs against a real JupyterHub")


# These tests drive subprocesses synchronously: keep pytest-jupyter's loop fixtures out of them.
@pytest.fixture
def jp_asyncio_loop():
    yield None


@pytest.fixture
def jp_server_cleanup():
    yield


@pytest.fixture(scope="session")
def hub(tmp_path_factory):
    """The team's hub, shared by the modules here that need no culler: alice's default server and
    her named server "lab2", bob's default server; carol (a glue admin) has none running."""
    hub = launch_hub(tmp_path_factory.mktemp("hub"))
    try:
        hub.start_servers(("alice", ""), ("alice", "lab2"), ("bob", ""))
        yield hub
    finally:
        end_hub(hub)


@pytest.fixture(scope="session")
def tokens(hub) -> dict[str, str]:
    """An API token of each user, with the user's own permissions (as the hub's Token page makes)."""
    return {user: hub.token_for(user) for user in ("alice", "bob", "carol")}


@pytest.fixture
def started(hub, tokens):
    """Factory: start a session on a user's server; after the test each one is stopped and
    forgotten, so that the next test (sharing the hub) starts from a clean slate."""
    made: list[tuple[str, str, str]] = []

    def start(user: str, prompt: str | None = None, server: str = "", agent: str = "demo",
              title: str | None = None) -> dict:
        body = {"agent": agent, **({"prompt": prompt} if prompt else {}), **({"title": title} if title else {})}
        session = hub.glue("POST", user, "sessions", tokens[user], body, server=server, expect=201)
        made.append((user, server, session["id"]))
        return session

    yield start
    for user, server, sid in made:
        model = hub.server_model(user, server)
        if model and model["ready"]:
            hub.glue("POST", user, f"sessions/{sid}/stop", tokens[user], {}, server=server, expect=(200, 409))
            hub.glue("DELETE", user, f"sessions/{sid}", tokens[user], server=server, expect=(204, 404))
