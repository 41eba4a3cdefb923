"""The live-kernel tool against a real server, a real kernel and the demo agent: the agent runs
code through its MCP server (stdio, ACP mcpServers), every run is a tool call of the turn under
the permission policy, interrupting the turn interrupts the kernel, and nothing but a session's
grant opens the route."""

from __future__ import annotations

import asyncio
import json

import pytest
from client_fixtures import glue_env, glue_ref  # noqa: F401 - fixtures


@pytest.fixture
async def kernel(glue_api, glue_server):
    """A kernel of the test server, as a notebook would have one; shut down at teardown."""
    reply = await glue_api._fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))
    kernel_id = json.loads(reply.body)["id"]
    manager = glue_server.kernel_manager.get_kernel(kernel_id)
    client = manager.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    client.stop_channels()
    yield kernel_id
    await glue_server.kernel_manager.shutdown_kernel(kernel_id, now=True)


async def run_in(glue_server, kernel_id: str, code: str) -> str:
    """What `code` prints, run as the user would (another client of the same kernel)."""
    client = glue_server.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        reply = await client.execute_interactive(code, timeout=30, output_hook=lambda msg: printed.append(msg))
    finally:
        client.stop_channels()
    assert reply["content"]["status"] == "ok", reply
    return "".join(m["content"].get("text", "") for m in printed if m["header"]["msg_type"] == "stream")


printed: list = []


async def start_with_kernel(glue_api, kernel_id: str, prompt: str, cwd) -> dict:
    body = {"agent": "demo", "cwd": str(cwd), "prompt": prompt, "kernel_id": kernel_id}
    return await glue_api.ok("POST", "sessions", expect=201, body=body)


async def answer(glue_api, sid: str, option: str, after_seq: int = 0) -> dict:
    request = await glue_api.wait_event(sid, lambda e: e["kind"] == "permission_request", after_seq)
    await glue_api.control(sid, f"permissions/{request['data']['request_id']}", option_id=option)
    return request


async def test_the_agent_runs_code_in_the_kernel_with_permission(glue_api, glue_server, kernel, jp_root_dir):
    printed.clear()
    await run_in(glue_server, kernel, "answer = 6 * 7")
    session = await start_with_kernel(glue_api, kernel, "kernel: `print(answer)`", jp_root_dir)
    sid = session["id"]
    request = await answer(glue_api, sid, "allow")
    assert request["data"]["tool_call"]["title"] == "Run in the notebook's kernel: print(answer)"
    end = await glue_api.wait_event(sid, lambda e: e["kind"] == "turn_end")
    assert end["data"]["stop_reason"] == "end_turn"
    events = await glue_api.events(sid)
    call = next(e["data"] for e in events if e["kind"] == "tool_call")
    assert call["kind"] == "execute" and call["raw_input"] == {"code": "print(answer)"}
    updates = [e["data"] for e in events if e["kind"] == "tool_call_update"]
    assert [u["status"] for u in updates] == ["in_progress", "completed"]
    assert updates[-1]["content"] == [{"type": "text", "text": "42\n"}]
    reply = "".join(e["data"]["text"] for e in events if e["kind"] == "agent_message_chunk")
    assert "The kernel answered:\n\n```\n42\n```" in reply

    # Denied: nothing runs, and the agent is told.
    await glue_api.wait_for(sid, "idle")
    seq = (await glue_api.ok("GET", "sessions", sid))["last_seq"]
    await glue_api.control(sid, "prompt", text="kernel: `answer = 0`")
    await answer(glue_api, sid, "deny", seq)
    await glue_api.wait_event(sid, lambda e: e["kind"] == "turn_end", seq)
    reply = "".join(e["data"]["text"] for e in await glue_api.events(sid, seq) if e["kind"] == "agent_message_chunk")
    assert "Not run: Permission to run it was denied." in reply
    printed.clear()
    assert await run_in(glue_server, kernel, "print(answer)") == "42\n"


async def test_interrupting_the_turn_interrupts_the_kernel(glue_api, glue_server, kernel, jp_root_dir):
    session = await start_with_kernel(glue_api, kernel, "kernel: `import time; time.sleep(120)`", jp_root_dir)
    sid = session["id"]
    await answer(glue_api, sid, "allow")
    await glue_api.wait_event(sid, lambda e: e["kind"] == "tool_call_update" and e["data"]["status"] == "in_progress")
    manager = glue_server.kernel_manager.get_kernel(kernel)
    loop = asyncio.get_running_loop()
    started = loop.time()
    at_interrupt = (await glue_api.control(sid, "interrupt"))["last_seq"]
    printed.clear()
    assert await run_in(glue_server, kernel, "print('free again')") == "free again\n"  # the sleep was cut
    assert loop.time() - started < 20
    assert manager.execution_state == "idle"
    later = await glue_api.events(sid, at_interrupt)
    assert not [e for e in later if e["kind"] == "tool_call_update"]  # nothing more of the turn
    end = [e for e in await glue_api.events(sid) if e["kind"] == "turn_end"][-1]
    assert end["data"]["stop_reason"] == "cancelled"


async def test_only_a_sessions_grant_opens_the_route(glue_api, glue_server, kernel, jp_root_dir):
    status, reply = await glue_api.request("POST", "kernel-tool", body={"code": "1"})  # the Jupyter token
    assert status == 403 and "grant" in reply["message"]
    status, _ = await glue_api.request("POST", "kernel-tool", body={"code": "1"},
                                       headers={"Authorization": "glue-tool not-a-grant"})
    assert status == 403
    status, reply = await glue_api.request("POST", "sessions", body={"agent": "demo", "cwd": str(jp_root_dir),
                                                                    "kernel_id": "no-such-kernel"})
    assert status == 400 and "No kernel no-such-kernel runs on this server" in reply["message"]
    assert (await glue_api.ok("GET", "sessions"))["sessions"] == []
    # A grant outlives nothing: once its session is forgotten it opens nothing.
    tools = glue_server.extension_manager.extension_apps["glue_jupyter"].copy().pop().kernel_tools
    grant, _ = tools.grant(kernel)
    forgotten = await glue_api.start(cwd=str(jp_root_dir))
    grant.session_id = forgotten["id"]
    deep = b"[" * 100_000 + b"]" * 100_000  # a grant holder's hostile body is a 400, not a 500
    status, reply = await glue_api.request("POST", "kernel-tool", body=deep,
                                           headers={"Authorization": f"glue-tool {grant.token}"})
    assert status == 400 and "nested too deeply" in reply["message"]
    await glue_api.control(forgotten["id"], "stop")
    await glue_api.ok("DELETE", "sessions", forgotten["id"], expect=204)
    headers = {"Authorization": f"glue-tool {grant.token}"}
    status, reply = await glue_api.request("POST", "kernel-tool", body={"code": "1"}, headers=headers)
    assert status == 404 and "gone" in reply["message"]
    status, _ = await glue_api.request("POST", "kernel-tool", body={"code": "1"}, headers=headers)
    assert status == 403
    # Without --kernel an agent has no tool, and says so.
    session = await glue_api.start(prompt="kernel: `1`", cwd=str(jp_root_dir))
    await glue_api.wait_event(session["id"], lambda e: e["kind"] == "turn_end")
    reply = "".join(e["data"]["text"] for e in await glue_api.events(session["id"])
                    if e["kind"] == "agent_message_chunk")
    assert "I have no kernel tool in this session" in reply


async def test_the_magic_opts_in_from_a_notebooks_kernel(glue_env, glue_api, glue_server, kernel, jp_root_dir):
    """%glue start --kernel in a kernel the server runs (as a notebook's is): the agent's run
    sees the notebook's variables, and --wait is declined rather than holding the kernel."""
    printed.clear()
    code = (f"import os; os.chdir({str(jp_root_dir)!r})\n%load_ext glue_jupyter\nsecret = 41\n"
            "%glue start --agent demo --kernel --wait kernel: `print(secret + 1)`")
    out = await run_in(glue_server, kernel, code)
    assert "glue: not waiting: this session runs code in this kernel" in out
    (session,) = (await glue_api.ok("GET", "sessions"))["sessions"]
    await answer(glue_api, session["id"], "allow")
    await glue_api.wait_event(session["id"], lambda e: e["kind"] == "turn_end")
    updates = [e["data"] for e in await glue_api.events(session["id"]) if e["kind"] == "tool_call_update"]
    assert updates[-1]["status"] == "completed" and updates[-1]["content"][0]["text"] == "42\n"
