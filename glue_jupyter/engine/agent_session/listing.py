"""The agent's own sessions for a folder (ACP `session/list`), e.g. Claude Code sessions begun
in a terminal: asked of a short-lived agent process, which is ended right after."""

from __future__ import annotations

import asyncio
from typing import Any

from ...agents.registry import AgentSpec, scrubbed_environment
from ..errors import AgentFailed, InvalidRequest
from ..process import AgentProcess

MAX_PAGES = 20       # an agent that keeps answering with a nextCursor is not followed forever
MAX_SESSIONS = 500


async def list_agent_sessions(spec: AgentSpec, cwd: str, *, timeout: float, grace: float) -> list[dict]:
    """[{agent_session_id, cwd, title, updated_at}], most recent first as the agent lists them."""
    from ...agents.acp_driver import AcpDriver, MutedSink, error_text

    argv = spec.resolve_argv() or spec.argv
    try:
        process = await AgentProcess.spawn(argv, cwd, scrubbed_environment(spec.env))
    except OSError as exc:
        raise AgentFailed(f"Could not launch {spec.name} ({argv[0]}): {exc.strerror or exc}") from None
    process.expected_exit = True
    sink = MutedSink()
    driver = sink.driver = AcpDriver(process.stdout, process.stdin, cwd, sink=sink)
    try:
        await asyncio.wait_for(driver.initialize(), timeout)
        if not driver.can_list:
            raise InvalidRequest(f"{spec.name} cannot list its sessions (it does not offer ACP session/list).")
        found: list[dict] = []
        cursor = None
        for _ in range(MAX_PAGES):
            page = await asyncio.wait_for(driver.list_sessions(cwd, cursor), timeout)
            found += [s for s in map(_session, page.get("sessions") or []) if s is not None]
            cursor = page.get("nextCursor")
            if not cursor or len(found) >= MAX_SESSIONS:
                break
        return found[:MAX_SESSIONS]
    except asyncio.TimeoutError:
        raise AgentFailed(f"{spec.name} did not list its sessions within {timeout:g} s.") from None
    except (InvalidRequest, asyncio.CancelledError):
        raise
    except Exception as exc:
        raise AgentFailed(f"{spec.name} could not list its sessions: {error_text(exc)}") from None
    finally:
        await process.terminate(grace)
        await driver.close()


def _session(raw: Any) -> dict | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("sessionId"), str):
        return None
    return {"agent_session_id": raw["sessionId"], "cwd": raw.get("cwd"),
            "title": raw.get("title") if isinstance(raw.get("title"), str) else None,
            "updated_at": raw.get("updatedAt") if isinstance(raw.get("updatedAt"), str) else None}
