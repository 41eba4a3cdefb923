"""Fixtures for the client-side tests (client, CLI, magics, notebooks): the URL and token of
the test server (glue_server, on the test's loop) and a blocking client for it.

The client blocks, and the server runs on the test's own loop: every client call in an async
test goes through ``asyncio.to_thread`` (``call``), or the loop could never answer it.
"""

from __future__ import annotations

import asyncio
import functools

import pytest

from glue_jupyter.client import GlueClient, ServerRef


@pytest.fixture
def glue_ref(glue_server, http_server_client, jp_http_port, jp_base_url) -> ServerRef:
    return ServerRef(f"http://127.0.0.1:{jp_http_port}{jp_base_url}", glue_server.identity_provider.token)


@pytest.fixture
def glue_client(glue_ref) -> GlueClient:
    return GlueClient(glue_ref)


@pytest.fixture
def glue_env(glue_ref, monkeypatch):
    """GLUE_JUPYTER_URL/TOKEN for this process and its children (kernels, the CLI)."""
    monkeypatch.setenv("GLUE_JUPYTER_URL", glue_ref.url)
    monkeypatch.setenv("GLUE_JUPYTER_TOKEN", glue_ref.token)
    return glue_ref


async def call(fn, *args, **kwargs):
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))
