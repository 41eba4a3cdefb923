"""pytest wiring for the hub tests: they need jupyterhub, jupyterhub-idle-culler and
configurable-http-proxy (`./dev test` installs it outside the repo); in CI a missing one fails,
elsewhere the tests are skipped and -ra says why. The hub itself is in hub_fixtures.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from hub_fixtures import find_proxy, running_hub

from glue_jupyter.pytest_plugin import require


def pytest_collection_modifyitems(config, items):
    missing = None
    try:
        import jupyterhub  # noqa: F401
        import jupyterhub_idle_culler  # noqa: F401
    except ImportError as e:
        missing = f"{e.name} is not installed (pip install -e '.[test]')"
    if missing is None and find_proxy() is None:
        missing = "configurable-http-proxy is missing (`./dev test` installs it into ~/.cache/glue_jupyter/npm-tools)"
    require(items, Path(__file__).parent, "hub", missing, "JupyterHub tests")


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
    with running_hub(tmp_path_factory.mktemp("hub"), ("alice", ""), ("alice", "lab2"), ("bob", "")) as hub:
        yield hub


@pytest.fixture(scope="session")
def tokens(hub) -> dict[str, str]:
    return hub.tokens()


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
