"""The demo agent, driven as a real process through the official ACP client library.

Every session/update and permission request the agent writes is also validated against the
``acp`` schema, so these tests prove the wire format is what the library accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest
from acp import RequestError, connect_to_agent, text_block
from acp.schema import (AllowedOutcome, DeniedOutcome, RequestPermissionRequest,
                        RequestPermissionResponse, SessionNotification)
from pydantic import ValidationError

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 10.0
SEED = """[glue_jupyter: earlier transcript]
User: first message
Agent: first reply
User: second message
on two lines
Agent: second reply
[end of earlier transcript]"""


class Changes:
    """Wait for a condition over recorded state, woken whenever something was recorded."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def touch(self) -> None:
        self._event.set()

    async def until(self, predicate, timeout: float = TIMEOUT):
        deadline = time.monotonic() + timeout
        while not (result := predicate()):
            self._event.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("timed out waiting for the demo agent")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._event.wait(), remaining)
        return result


class RecordingClient:
    """An ACP client that records updates and answers permission requests as told."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        self.updates: list = []
        self.permission_requests: list = []
        self.permission_choice: str | None = "allow"   # None: answer "cancelled" once released
        self.release_permission = asyncio.Event()

    async def session_update(self, session_id, update, **kwargs) -> None:
        self.updates.append(update)
        self.changes.touch()

    async def request_permission(self, session_id, tool_call, options, **kwargs):
        self.permission_requests.append((tool_call, options))
        self.changes.touch()
        if self.permission_choice is None:
            await self.release_permission.wait()
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=self.permission_choice))

    def of_kind(self, kind: str) -> list:
        return [update for update in self.updates if update.session_update == kind]

    def message_text(self) -> str:
        return "".join(update.content.text for update in self.of_kind("agent_message_chunk"))


class AgentProcess:
    """One demo agent process, its ACP client connection and a tap on its raw stdout."""

    def __init__(self, proc, changes: Changes) -> None:
        self.proc = proc
        self.changes = changes
        self.client = RecordingClient(changes)
        self.raw: list[str] = []            # every stdout line, as written
        self.stderr: list[str] = []
        self.schema_errors: list[str] = []
        agent_stdout = asyncio.StreamReader(limit=2**26)
        self._taps = [asyncio.ensure_future(self._tap_stdout(agent_stdout)),
                      asyncio.ensure_future(self._tap_stderr())]
        self.conn = connect_to_agent(self.client, proc.stdin, agent_stdout)

    async def _tap_stdout(self, sink: asyncio.StreamReader) -> None:
        while line := await self.proc.stdout.readline():
            text = line.decode().rstrip("\n")
            self.raw.append(text)
            self._check_schema(text)
            sink.feed_data(line)
            self.changes.touch()
        sink.feed_eof()

    async def _tap_stderr(self) -> None:
        while line := await self.proc.stderr.readline():
            self.stderr.append(line.decode().rstrip("\n"))
            self.changes.touch()

    def _check_schema(self, text: str) -> None:
        models = {"session/update": SessionNotification,
                  "session/request_permission": RequestPermissionRequest}
        try:
            message = json.loads(text)
        except ValueError:
            return
        model = models.get(message.get("method"))
        if model is not None:
            try:
                model.model_validate(message["params"])
            except ValidationError as exc:
                self.schema_errors.append(f"{text[:200]}: {exc}")

    async def initialize(self):
        return await asyncio.wait_for(self.conn.initialize(protocol_version=1), TIMEOUT)

    async def new_session(self, cwd: Path) -> str:
        response = await asyncio.wait_for(self.conn.new_session(cwd=str(cwd), mcp_servers=[]), TIMEOUT)
        return response.session_id

    async def prompt(self, session_id: str, *texts: str, timeout: float = TIMEOUT) -> str:
        response = await asyncio.wait_for(
            self.conn.prompt(session_id=session_id, prompt=[text_block(text) for text in texts]), timeout)
        return response.stop_reason

    def send_raw(self, message: dict) -> None:
        self.proc.stdin.write((json.dumps(message) + "\n").encode())

    def raw_messages(self) -> list[dict]:
        messages = []
        for line in self.raw:
            with contextlib.suppress(ValueError):
                messages.append(json.loads(line))
        return messages

    async def close(self) -> int:
        """Close stdin (EOF) and wait for the agent to exit."""
        with contextlib.suppress(Exception):
            self.proc.stdin.close()
        try:
            code = await asyncio.wait_for(self.proc.wait(), TIMEOUT)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
            await asyncio.wait(self._taps, timeout=TIMEOUT)
            await self.conn.close()
        return code


async def spawn(state_dir: Path, *flags: str, pace: str = "0.01") -> AgentProcess:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "glue_jupyter.agents.demo", "--pace", pace, "--state-dir", str(state_dir),
        *flags, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, cwd=REPO, limit=2**26,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))})
    return AgentProcess(proc, Changes())


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "README.md").write_text("hello\n")
    return work


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@contextlib.asynccontextmanager
async def running(state_dir: Path, *flags: str, pace: str = "0.01"):
    agent = await spawn(state_dir, *flags, pace=pace)
    try:
        await agent.initialize()
        yield agent
    finally:
        if agent.proc.returncode is None:
            await agent.close()
    assert agent.schema_errors == []


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def tool_pid(update) -> int:
    texts = [item.content.text for item in update.content or [] if item.type == "content"]
    return int(re.search(r"pid=(\d+)", " ".join(texts)).group(1))


# -- start, initialize, a default turn ------------------------------------------------------------

async def test_initialize_is_fast_and_describes_the_agent(state_dir):
    started = time.perf_counter()
    agent = await spawn(state_dir)
    try:
        response = await agent.initialize()
        elapsed = time.perf_counter() - started
    finally:
        assert await agent.close() == 0
    print(f"demo agent answered initialize {elapsed * 1000:.0f} ms after spawn")
    assert elapsed < 1.5  # typically well under 0.3 s; generous for loaded CI machines
    assert response.protocol_version == 1
    assert response.agent_capabilities.load_session is True
    assert response.agent_info.name == "glue-demo"
    assert response.auth_methods == []


async def test_default_prompt_streams_tools_and_ends_end_turn(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, "please tidy up") == "end_turn"
        client = agent.client
        assert client.of_kind("agent_thought_chunk")
        assert len(client.of_kind("plan")[0].entries) == 3
        assert all(entry.status == "completed" for entry in client.of_kind("plan")[-1].entries)
        kinds = [call.kind for call in client.of_kind("tool_call")]
        assert kinds == ["read", "execute"]
        finished = {update.tool_call_id: update for update in client.of_kind("tool_call_update")}
        outputs = [finished[call.tool_call_id].content[0].content.text for call in client.of_kind("tool_call")]
        assert "README.md" in outputs[0]                       # really listed cwd
        assert outputs[1] == "hello from the glue demo agent"   # really ran echo
        assert len(client.of_kind("agent_message_chunk")) >= 15
        assert "please tidy up" in client.message_text()


async def test_tool_call_ids_never_repeat_across_turns_or_processes(state_dir, cwd):
    """Issue 10: ids reused across turns made later tool calls overwrite earlier cards."""
    ids = []
    for _ in range(2):  # a loaded session keeps the ids of its earlier processes
        async with running(state_dir) as agent:
            session_id = await agent.new_session(cwd)
            for _ in range(6):
                assert await agent.prompt(session_id, "look around") == "end_turn"
            ids += [call.tool_call_id for call in agent.client.of_kind("tool_call")]
    assert len(ids) == 24 and len(set(ids)) == 24


async def test_per_turn_tool_ids_repeat_on_purpose(state_dir, cwd):
    async with running(state_dir, "--per-turn-tool-ids") as agent:
        session_id = await agent.new_session(cwd)
        for _ in range(2):
            await agent.prompt(session_id, "look around")
        assert [call.tool_call_id for call in agent.client.of_kind("tool_call")] == ["call-1", "call-2"] * 2


async def test_quick_prompt_and_unknown_session(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, "Quick one") == "end_turn"
        assert len(agent.client.of_kind("agent_message_chunk")) == 1
        with pytest.raises(RequestError):
            await agent.prompt("no-such-session", "quick")


# -- cancel ---------------------------------------------------------------------------------------

async def test_cancel_mid_turn_stops_streaming(state_dir, cwd):
    async with running(state_dir, pace="0.05") as agent:
        session_id = await agent.new_session(cwd)
        turn = asyncio.ensure_future(agent.prompt(session_id, "look around"))
        await agent.changes.until(lambda: agent.client.of_kind("tool_call"))
        await agent.conn.cancel(session_id=session_id)
        assert await turn == "cancelled"
        # A later turn is a barrier: anything the cancelled turn still wrote would come before it.
        assert await agent.prompt(session_id, "quick") == "end_turn"
        messages = agent.raw_messages()
        cancelled_at = next(i for i, m in enumerate(messages)
                            if m.get("result") == {"stopReason": "cancelled"})
        later_updates = [m["params"]["update"] for m in messages[cancelled_at:]
                         if m.get("method") == "session/update"]
        assert [u["sessionUpdate"] for u in later_updates] == ["agent_message_chunk", "usage_update"]
        assert later_updates[0]["content"]["text"].startswith("Quick answer")
        assert len(agent.client.of_kind("agent_message_chunk")) < 5


async def test_cancel_kills_the_tool_process(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        turn = asyncio.ensure_future(agent.prompt(session_id, "sleep a while"))
        call = (await agent.changes.until(lambda: agent.client.of_kind("tool_call")))[0]
        pid = tool_pid(call)
        assert process_exists(pid)
        await agent.conn.cancel(session_id=session_id)
        assert await turn == "cancelled"
        assert not process_exists(pid)   # killed and reaped before the turn was answered


async def test_stubborn_ignores_cancel(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        turn = asyncio.ensure_future(agent.prompt(session_id, "be stubborn"))
        await agent.changes.until(lambda: agent.client.of_kind("agent_message_chunk"))
        await agent.conn.cancel(session_id=session_id)
        await agent.changes.until(lambda: any("ignoring session/cancel" in line for line in agent.stderr))
        await agent.changes.until(lambda: len(agent.client.of_kind("agent_message_chunk")) >= 2)
        assert not turn.done()
        turn.cancel()


# -- permission and write --------------------------------------------------------------------------

@pytest.mark.parametrize("choice", ["allow", "deny"])
async def test_write_asks_permission(state_dir, cwd, choice):
    async with running(state_dir) as agent:
        agent.client.permission_choice = choice
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, "write notes.md") == "end_turn"
        [(tool_call, options)] = agent.client.permission_requests
        assert [(o.option_id, o.name, o.kind) for o in options] == [
            ("allow", "Allow", "allow_once"), ("allow-always", "Always allow", "allow_always"),
            ("deny", "Deny", "reject_once")]
        assert tool_call.kind == "edit"
        # What will happen, before approval: the diff (a new file: no old text).
        [asked] = tool_call.content
        assert (asked.type, asked.old_text, asked.new_text) == ("diff", None, "Written by the glue demo agent.\n")
        final = agent.client.of_kind("tool_call_update")[-1]
        target = cwd / "notes.md"
        if choice == "allow":
            assert final.status == "completed"
            [diff] = final.content
            assert (diff.type, diff.path, diff.old_text) == ("diff", str(target.resolve()), None)
            assert target.read_text() == diff.new_text
        else:
            assert final.status == "failed"
            assert not target.exists()
            assert "denied" in agent.client.message_text()


async def test_always_allow_is_remembered_for_the_session(state_dir, cwd):
    async with running(state_dir) as agent:
        agent.client.permission_choice = "allow-always"
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, "write first.md") == "end_turn"
        assert await agent.prompt(session_id, "write second.md") == "end_turn"
        assert len(agent.client.permission_requests) == 1  # not asked again for an edit
        assert (cwd / "first.md").exists() and (cwd / "second.md").exists()
        assert await agent.prompt(session_id, "execute it") == "end_turn"
        assert len(agent.client.permission_requests) == 2  # another kind of tool: asked


@pytest.mark.parametrize("choice", ["allow", "deny"])
async def test_execute_asks_with_command_and_folder(state_dir, cwd, choice):
    async with running(state_dir) as agent:
        agent.client.permission_choice = choice
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, "execute something") == "end_turn"
        [(tool_call, _)] = agent.client.permission_requests
        assert tool_call.kind == "execute" and tool_call.raw_input == {"command": ["ls", "-la"], "cwd": str(cwd)}
        final = agent.client.of_kind("tool_call_update")[-1]
        if choice == "allow":
            assert final.status == "completed" and "README.md" in final.content[0].content.text
        else:
            assert final.status == "failed" and "did not" in agent.client.message_text()


async def test_cancel_while_permission_is_pending(state_dir, cwd):
    async with running(state_dir) as agent:
        agent.client.permission_choice = None
        session_id = await agent.new_session(cwd)
        turn = asyncio.ensure_future(agent.prompt(session_id, "write later.txt"))
        await agent.changes.until(lambda: agent.client.permission_requests)
        await agent.conn.cancel(session_id=session_id)
        agent.client.release_permission.set()   # the client answers "cancelled", as ACP asks
        assert await turn == "cancelled"
        assert not (cwd / "later.txt").exists()


async def test_write_outside_cwd_is_refused(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, "write ../escape.txt") == "end_turn"
        assert agent.client.permission_requests == []
        assert agent.client.of_kind("tool_call")[0].status == "failed"
        assert not (cwd.parent / "escape.txt").exists()


# -- history, session/load, recall ----------------------------------------------------------------

async def test_load_in_a_new_process_replays_history_and_recall_lists_it(state_dir, cwd):
    async with running(state_dir) as first:
        session_id = await first.new_session(cwd)
        assert await first.prompt(session_id, "quick: buy milk") == "end_turn"
        assert await first.prompt(session_id, "quick: call mum") == "end_turn"
        assert await first.close() == 0   # EOF on stdin ends it cleanly

    async with running(state_dir) as second:
        await asyncio.wait_for(second.conn.load_session(cwd=str(cwd), session_id=session_id), TIMEOUT)
        replayed = [(u.session_update, u.content.text) for u in second.client.updates
                    if u.session_update.endswith("message_chunk")]
        assert replayed == [
            ("user_message_chunk", "quick: buy milk"), ("agent_message_chunk", "Quick answer from the glue demo agent."),
            ("user_message_chunk", "quick: call mum"), ("agent_message_chunk", "Quick answer from the glue demo agent."),
        ]
        second.client.updates.clear()
        assert await second.prompt(session_id, "recall") == "end_turn"
        assert "You said earlier:\n\n1. quick: buy milk\n2. quick: call mum" in second.client.message_text()


async def test_load_of_an_unknown_session_is_an_error(state_dir, cwd):
    async with running(state_dir) as agent:
        with pytest.raises(RequestError) as error:
            await agent.conn.load_session(cwd=str(cwd), session_id="0123456789abcdef")
        assert error.value.code == -32002


async def test_refuse_load(state_dir, cwd):
    async with running(state_dir, "--refuse-load") as agent:
        response = await agent.initialize()
        assert response.agent_capabilities.load_session is True
        session_id = await agent.new_session(cwd)
        with pytest.raises(RequestError) as error:
            await agent.conn.load_session(cwd=str(cwd), session_id=session_id)
        assert "demo agent was told to refuse session/load" in str(error.value)


async def test_no_load_does_not_advertise_it(state_dir):
    async with running(state_dir, "--no-load") as agent:
        response = await agent.initialize()
        assert response.agent_capabilities.load_session is False


async def test_seeded_recall(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, SEED, "Do you recall what I said?") == "end_turn"
        text = agent.client.message_text()
        assert "You said earlier:" in text
        assert "1. first message\n2. second message on two lines\n" in text
        assert "reply" not in text


async def test_recall_with_nothing_earlier(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, "recall") == "end_turn"
        assert agent.client.message_text() == "I remember nothing earlier."


# -- misbehaviour on purpose --------------------------------------------------------------------

async def test_crash_exits_3_mid_turn(state_dir, cwd):
    agent = await spawn(state_dir)
    await agent.initialize()
    session_id = await agent.new_session(cwd)
    with pytest.raises(ConnectionError):
        await agent.prompt(session_id, "crash please")
    assert await asyncio.wait_for(agent.proc.wait(), TIMEOUT) == 3
    await asyncio.wait(agent._taps, timeout=TIMEOUT)
    await agent.conn.close()
    assert "demo agent: simulated crash" in agent.stderr
    assert len(agent.stderr) == 2
    assert agent.client.of_kind("agent_message_chunk")


async def test_garbage_lines_then_a_normal_answer(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, "garbage") == "end_turn"
        assert "this is not json" in agent.raw
        assert len(agent.client.of_kind("agent_message_chunk")) >= 15


async def test_flood(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, "flood", timeout=60) == "end_turn"
        assert len(agent.client.of_kind("agent_message_chunk")) == 20_000


async def test_unknown_method_and_malformed_params(state_dir, cwd):
    async with running(state_dir) as agent:
        with pytest.raises(RequestError) as error:
            await agent.conn.ext_method("glue/nope", {})
        assert error.value.code == -32601
        agent.send_raw({"jsonrpc": "2.0", "id": "raw-1", "method": "session/bogus", "params": {}})
        agent.send_raw({"jsonrpc": "2.0", "id": "raw-2", "method": "session/prompt", "params": {"prompt": 3}})
        agent.send_raw({"jsonrpc": "2.0", "id": "raw-3", "method": "session/new", "params": {"cwd": "rel"}})

        def answers():
            found = {m["id"]: m for m in agent.raw_messages() if str(m.get("id")).startswith("raw-")}
            return found if len(found) == 3 else None

        found = await agent.changes.until(answers)
        assert found["raw-1"]["error"]["code"] == -32601
        assert found["raw-2"]["error"]["code"] == -32602
        assert found["raw-3"]["error"]["code"] == -32602


# -- process life ---------------------------------------------------------------------------------

async def test_eof_exits_0_and_kills_tool_children(state_dir, cwd):
    agent = await spawn(state_dir)
    await agent.initialize()
    session_id = await agent.new_session(cwd)
    turn = asyncio.ensure_future(agent.prompt(session_id, "sleep"))
    pid = tool_pid((await agent.changes.until(lambda: agent.client.of_kind("tool_call")))[0])
    assert await agent.close() == 0
    assert not process_exists(pid)
    turn.cancel()


async def test_sigterm_ends_it_and_its_tool_children(state_dir, cwd):
    agent = await spawn(state_dir)
    await agent.initialize()
    session_id = await agent.new_session(cwd)
    turn = asyncio.ensure_future(agent.prompt(session_id, "sleep"))
    pid = tool_pid((await agent.changes.until(lambda: agent.client.of_kind("tool_call")))[0])
    agent.proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(agent.proc.wait(), TIMEOUT) == -signal.SIGTERM
    assert not process_exists(pid)
    turn.cancel()
    await agent.close()


async def test_ignore_sigterm(state_dir, cwd):
    async with running(state_dir, "--ignore-sigterm") as agent:
        agent.proc.send_signal(signal.SIGTERM)
        await agent.changes.until(lambda: any("ignoring SIGTERM" in line for line in agent.stderr))
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, "quick") == "end_turn"


# -- context blocks: acknowledged, and used by `fix` and `snippet` -----------------------------------

CELL = 'totals = sales.groupby("regoin")["units"].sum()\nprint(totals)'
TRACEBACK = "Traceback (most recent call last):\n  ...\nKeyError: 'regoin'"
DESCRIPTION = "sales: pandas DataFrame, 4 rows × 2 columns\n\n| column | dtype |\n| region | object |\n| units | int64 |"


def resource(uri: str, text: str, mime: str) -> dict:
    return {"type": "resource", "resource": {"uri": uri, "text": text, "mimeType": mime}}


async def prompt_blocks(agent, session_id: str, blocks: list[dict]) -> str:
    from acp.schema import EmbeddedResourceContentBlock, ResourceContentBlock, TextContentBlock
    from pydantic import TypeAdapter

    adapter = TypeAdapter(TextContentBlock | ResourceContentBlock | EmbeddedResourceContentBlock)
    response = await asyncio.wait_for(
        agent.conn.prompt(session_id=session_id, prompt=[adapter.validate_python(b) for b in blocks]), TIMEOUT)
    return response.stop_reason


async def test_initialize_advertises_embedded_context_unless_told_not_to(state_dir):
    async with running(state_dir) as agent:
        assert (await agent.initialize()).agent_capabilities.prompt_capabilities.embedded_context is True
    async with running(state_dir, "--no-embedded-context") as agent:
        assert (await agent.initialize()).agent_capabilities.prompt_capabilities.embedded_context is False


async def test_fix_proposes_the_cell_with_the_misspelling_corrected(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        await prompt_blocks(agent, session_id, [
            text_block("Please fix the error this cell raised."),
            resource("jupyter://kernel/cells/7", CELL, "text/x-python"),
            resource("jupyter://kernel/traceback/7", TRACEBACK, "text/x-python-traceback"),
            resource("jupyter://kernel/variables/sales", DESCRIPTION, "text/markdown"),
            {"type": "resource_link", "uri": f"file://{cwd}/sales.ipynb", "name": "sales.ipynb"},
        ])
        reply = agent.client.message_text()
        assert reply.startswith("I received 4 attachments:")
        assert "an embedded resource `jupyter://kernel/cells/7` (" in reply
        assert f"a link to `file://{cwd}/sales.ipynb`" in reply
        assert "did you mean `region`?" in reply
        fixed = CELL.replace("regoin", "region")
        assert f"```python\n{fixed}\n```" in reply


async def test_fix_without_a_traceback_or_a_fix_says_so(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        await agent.prompt(session_id, "fix it")
        assert "Send me a traceback" in agent.client.message_text()
        await prompt_blocks(agent, session_id, [
            text_block("fix"), resource("jupyter://kernel/cells/2", "1/0", "text/x-python"),
            resource("jupyter://kernel/traceback/2", "ZeroDivisionError: division by zero", "text/plain")])
        assert "I cannot see a fix for that" in agent.client.message_text()


async def test_snippet_offers_a_code_block_for_an_attached_variable(state_dir, cwd):
    async with running(state_dir) as agent:
        session_id = await agent.new_session(cwd)
        await prompt_blocks(agent, session_id, [
            text_block("[sales — jupyter://kernel/variables/sales]\n" + DESCRIPTION),  # a flattened resource
            text_block("a snippet to look at it, please")])
        reply = agent.client.message_text()
        assert "a text block `jupyter://kernel/variables/sales`" in reply
        assert "```python\nsales.describe()\n```" in reply


async def test_write_to_a_notebook_adds_a_cell_and_keeps_it_valid(state_dir, cwd):
    notebook = cwd / "story.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "source": "1",
                                               "outputs": [], "execution_count": None}],
                                    "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    async with running(state_dir) as agent:
        agent.client.permission_choice = "allow"
        session_id = await agent.new_session(cwd)
        assert await agent.prompt(session_id, "write story.ipynb") == "end_turn"
    cells = json.loads(notebook.read_text())["cells"]
    assert [c["cell_type"] for c in cells] == ["code", "markdown"]
    assert cells[1]["source"] == ["Written by the glue demo agent."]
