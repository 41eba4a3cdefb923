"""The OpenAPI document against the live server: property-based requests (schemathesis), with
credentials, must never get a 5xx and every response must match the document."""

from __future__ import annotations

import asyncio

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from glue_jupyter.server.handlers import OPENAPI

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = 15  # per operation and generation mode: the whole run stays well under a minute


@pytest.fixture
def spec():
    return yaml.safe_load(OPENAPI.read_text())


def test_document_covers_every_route(spec):
    from glue_jupyter.server import handlers, stream, workspace_handlers

    documented = {path.replace("{session_id}", "(?P<session_id>[^/]+)")
                  .replace("{request_id}", "(?P<request_id>[^/]+)")
                  .replace("{agent}", "(?P<agent>[^/]+)")
                  .replace("{message_id}", "(?P<message_id>[^/]+)")
                  .replace("{turn}", "(?P<turn>[^/]+)") for path in spec["paths"]}
    from glue_jupyter.kernel_tool import route as kernel_tool

    served = {route for route, _ in handlers.routes + workspace_handlers.routes + stream.routes + kernel_tool.routes}
    worktree = r"/api/glue/sessions/(?P<session_id>[^/]+)/worktree/(?P<action>merge|discard)"
    served.discard(worktree)
    control = r"/api/glue/sessions/(?P<session_id>[^/]+)/(?P<control>prompt|interrupt|pause|stop|resume)"
    served.discard(control)
    assert served - documented == set()
    for name in ("prompt", "interrupt", "pause", "stop", "resume", "worktree/merge", "worktree/discard"):
        assert f"/api/glue/sessions/{{session_id}}/{name}" in spec["paths"]


async def test_property_based_requests_against_the_live_server(spec, glue_api, glue_server,
                                                               jp_http_port, jp_base_url):
    # Real sessions, so generated requests also reach live objects, not only 404s.
    idle = (await glue_api.start(prompt="quick"))["id"]
    stopped = (await glue_api.start())["id"]
    await glue_api.wait_for(idle, "idle")
    await glue_api.control(stopped, "stop")
    real_ids = [idle, stopped]

    # The test sends the credentials itself: generated cases must not "drop" them and then
    # count the (authenticated) answer as a schema-violating request accepted.
    spec = {**spec, "security": []}
    schema = schemathesis.openapi.from_dict(spec)
    base_url = f"http://127.0.0.1:{jp_http_port}{jp_base_url.rstrip('/')}"
    headers = {"Authorization": f"token {glue_server.identity_provider.token}"}
    operations = [op.ok() for op in schema.get_all_operations()]
    operations = [op for op in operations if not op.definition.raw.get("x-websocket")]
    assert len(operations) == 30
    failures: list[str] = []

    def exercise(operation, mode: GenerationMode) -> None:
        checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])
        @given(case=operation.as_strategy(generation_mode=mode), real=st.sampled_from([None, *real_ids]))
        def run(case, real):
            if real and case.path_parameters and "session_id" in case.path_parameters \
                    and mode is GenerationMode.POSITIVE:
                case.path_parameters["session_id"] = real
            case.call_and_validate(base_url=base_url, headers=headers, checks=checks, timeout=30)

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            pass  # nothing to make invalid (no parameters, no body): nothing to test negatively
        except (Exception, BaseExceptionGroup) as e:  # collect every failure, report them all
            failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: {e}")

    def exercise_all() -> None:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                exercise(operation, mode)

    # schemathesis is synchronous; the server runs on this loop, so the requests go from a thread.
    # The bound catches a server that hangs, not a slow machine: 19 operations in both modes
    # took 79 s on 2 cores at load 20 (the workspace's 11 more run git or start agents).
    await asyncio.wait_for(asyncio.to_thread(exercise_all), 600)
    assert not failures, "\n\n".join(failures)
