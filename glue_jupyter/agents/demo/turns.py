"""What the demo agent does in one turn: a Turn (streaming, tools, cancel) and the scripts per keyword."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import uuid
from asyncio.subprocess import DEVNULL, PIPE
from typing import Awaitable, Callable

from .context import Attachment, acknowledgement, attachment_of, suggest_code, suggest_fix
from .mcp_client import McpClient, McpError, stdio_servers
from .settings import MODES, Settings
from .wire import RpcError, Wire, log

REPLY_CHUNKS = 20          # a default reply is streamed in about this many chunks
SLOW_INTERVAL = 1.0        # seconds between chunks of the deliberately slow turns
STUBBORN_CHUNKS = 60       # ... for 60 s
FLOOD_CHUNKS = 20_000
LISTING_LIMIT = 200        # entries shown by the `read` tool
SEED_START = "[glue_jupyter: earlier transcript]"
SEED_END = "[end of earlier transcript]"
PERMISSION_OPTIONS = [
    {"optionId": "allow", "name": "Allow", "kind": "allow_once"},
    {"optionId": "allow-always", "name": "Always allow", "kind": "allow_always"},
    {"optionId": "deny", "name": "Deny", "kind": "reject_once"},
]
ALLOWED = ("allow", "allow-always")
GARBAGE_LINES = ("this is not json", "{\"half\": a json object", "<<< demo agent garbage >>>")

# Every tool process still running, whatever its turn: killed when the agent exits.
live_children: set[asyncio.subprocess.Process] = set()


class TurnCancelled(Exception):
    """The client answered our permission request with "cancelled"."""


# -- the prompt as sent ------------------------------------------------------------------------

def split_prompt(blocks: list[dict]) -> tuple[str, list[dict], list[Attachment]]:
    """Return (the user's own text, entries of a seeded earlier transcript, attachments)."""
    user_parts, seeded, attachments = [], [], []
    for block in blocks:
        attachment = attachment_of(block)
        if attachment is not None:
            attachments.append(attachment)
            continue
        if block.get("type") != "text" or not isinstance(block.get("text"), str):
            continue  # images, audio: nothing the demo agent can use
        text = block["text"]
        if text.lstrip().startswith(SEED_START):
            seeded.extend(parse_seed(text))
        else:
            user_parts.append(text)
    return "\n".join(user_parts), seeded, attachments


def parse_seed(text: str) -> list[dict]:
    """Entries {role, text} of a seeded transcript; lines without a prefix continue the last entry."""
    entries: list[dict] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == SEED_START:
            continue
        if stripped == SEED_END:
            break
        for role, prefix in (("user", "User:"), ("agent", "Agent:")):
            if line.startswith(prefix):
                entries.append({"role": role, "text": line[len(prefix):].removeprefix(" ")})
                break
        else:
            if entries:
                entries[-1]["text"] += "\n" + line
    return entries


# -- one turn ----------------------------------------------------------------------------------

class Turn:
    """One prompt turn of one session: streams updates, runs tools, honours cancel."""

    def __init__(self, wire: Wire, session_id: str, cwd: str, pace: float,
                 earlier_user_messages: list[str], attachments: list[Attachment] | None = None,
                 settings: Settings | None = None, offers: str = "config",
                 mcp_servers: list[dict] | None = None) -> None:
        self.wire = wire
        self.attachments = attachments or []  # context blocks of the prompt
        self.mcp_servers = mcp_servers or []  # the client's MCP servers for this session
        self.session_id = session_id
        self.cwd = cwd
        self.pace = pace
        self.earlier_user_messages = earlier_user_messages
        self.settings = settings or Settings()
        self.offers = offers
        self.reply: list[str] = []        # agent text actually sent, for the history
        self.thoughts: list[str] = []     # thought text actually sent, for the usage
        self.cancelled = False
        self.ignores_cancel = False       # the `stubborn` script sets this
        self._children: set[asyncio.subprocess.Process] = set()
        self._task: asyncio.Task | None = None
        self._tool_calls = 0
        self.per_turn_tool_ids = False    # `--per-turn-tool-ids`: call-1, call-2… in every turn
        self.always_allowed: set[str] = set()  # tool kinds the user chose "Always allow" for (per session)
        self.steered: list[str] = []      # messages that joined the turn (steering)

    async def run(self, script: "Script", text: str) -> str:
        """Run the script to its end or until cancelled; returns the ACP stop reason."""
        self._task = asyncio.ensure_future(self._acknowledged(script, text))
        try:
            await asyncio.wait({self._task})
        finally:
            if not self._task.done():   # we are being torn down ourselves
                self._task.cancel()
            await self._reap_children()
        if self._task.cancelled():
            return "cancelled"
        if isinstance(self._task.exception(), TurnCancelled):
            self.cancelled = True
            return "cancelled"
        return self._task.result()    # re-raises a script's own failure

    async def _acknowledged(self, script: "Script", text: str) -> str:
        if self.attachments:  # say what arrived first: tests and users can check it
            await self.stream(acknowledgement(self.attachments), chunks=len(self.attachments) + 1)
        return await script(self, text)

    def cancel(self, *, force: bool = False) -> None:
        """Stop at once: no further update of this turn goes out, tool processes die."""
        if self.ignores_cancel and not force:
            log("ignoring session/cancel: this turn is stubborn")
            return
        self.cancelled = True
        self._kill_children()
        if self._task is not None:
            self._task.cancel()

    async def steer(self, text: str) -> None:
        """A message that joined this turn (`_session/steering`): acknowledged in the reply,
        and readable by scripts (`steered`)."""
        self.steered.append(text)
        await self.say(f"\n\n(Noted while working: “{preview(text)}”.)\n\n")

    # -- what scripts use --------------------------------------------------------------------

    async def emit(self, update: dict) -> None:
        if self.cancelled:
            return  # nothing of a cancelled turn may reach the client
        await self.wire.notify("session/update", {"sessionId": self.session_id, "update": update})

    async def say(self, text: str) -> None:
        if not self.cancelled:
            self.reply.append(text)
        await self.emit({"sessionUpdate": "agent_message_chunk", "content": text_block(text)})

    async def think(self, text: str) -> None:
        if not self.settings.thoughts:
            return
        if not self.cancelled:
            self.thoughts.append(text)
        await self.emit({"sessionUpdate": "agent_thought_chunk", "content": text_block(text)})

    async def switch_mode(self, mode_id: str) -> None:
        """Change our own mode, and tell the client the way real agents do."""
        self.settings.set_mode(mode_id)
        await self.emit({"sessionUpdate": "current_mode_update", "currentModeId": mode_id})
        if self.offers == "config":
            await self.emit({"sessionUpdate": "config_option_update",
                             "configOptions": self.settings.config_options()})

    async def pause(self) -> None:
        await asyncio.sleep(self.pace)

    async def stream(self, text: str, chunks: int = REPLY_CHUNKS) -> None:
        for index, piece in enumerate(split_into_chunks(text, chunks)):
            if index:
                await self.pause()
            await self.say(piece)

    async def plan(self, current_step: int) -> None:
        """Send the whole plan: steps before current_step done, current_step in progress."""
        def status(index: int) -> str:
            if index < current_step:
                return "completed"
            return "in_progress" if index == current_step else "pending"

        entries = [{"content": step, "priority": "medium", "status": status(index)}
                   for index, step in enumerate(PLAN_STEPS)]
        await self.emit({"sessionUpdate": "plan", "entries": entries})

    def new_tool_call_id(self) -> str:
        self._tool_calls += 1
        if self.per_turn_tool_ids:  # as agents that count per prompt do: ids repeat across turns
            return f"call-{self._tool_calls}"
        # Unique across turns, sessions and processes (a loaded session keeps its earlier ids;
        # an object's id() is reused once it is freed, so it cannot tell turns apart).
        return f"demo-{uuid.uuid4().hex[:16]}"

    async def start_tool(self, tool_call: dict) -> None:
        await self.emit({"sessionUpdate": "tool_call", **tool_call})

    async def update_tool(self, tool_call_id: str, **fields) -> None:
        await self.emit({"sessionUpdate": "tool_call_update", "toolCallId": tool_call_id, **fields})

    async def spawn(self, *argv: str, stdout=DEVNULL, stderr=PIPE, stdin=DEVNULL,
                    env: dict | None = None) -> asyncio.subprocess.Process:
        """Start a tool process in the session's cwd (in our own process group, on purpose)."""
        starting = asyncio.ensure_future(asyncio.create_subprocess_exec(
            *argv, cwd=self.cwd, stdin=stdin, stdout=stdout, stderr=stderr, env=env))
        try:
            process = await asyncio.shield(starting)
        except asyncio.CancelledError:
            process = await starting  # cancelled while it started: it must not outlive us
            process.kill()
            await process.wait()
            raise
        self._children.add(process)
        live_children.add(process)
        return process

    async def ask_permission(self, tool_call: dict) -> str:
        """The chosen optionId; raises TurnCancelled when the client cancelled the request.

        A kind of tool the user allowed "always" in this session is not asked about again.
        """
        kind = tool_call.get("kind", "")
        if kind in self.always_allowed:
            return "allow-always"
        response = await self.wire.request("session/request_permission", {
            "sessionId": self.session_id, "toolCall": tool_call, "options": PERMISSION_OPTIONS})
        outcome = (response or {}).get("outcome") or {}
        if outcome.get("outcome") == "selected":
            choice = str(outcome.get("optionId"))
            if choice == "allow-always":
                self.always_allowed.add(kind)
            return choice
        raise TurnCancelled()

    def write_garbage(self, line: str) -> None:
        if not self.cancelled:
            self.wire.write_raw_line(line)

    # -- tool processes ----------------------------------------------------------------------

    def _kill_children(self) -> None:
        for process in self._children:
            kill(process)

    async def _reap_children(self) -> None:
        self._kill_children()
        await reap(self._children)
        self._children.clear()


def kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        try:
            process.kill()
        except ProcessLookupError:
            pass


async def reap(processes: set, timeout: float = 2.0) -> None:
    """Wait for killed processes so no zombie (or reused pid) is left behind."""
    waiting = [process.wait() for process in processes if process.returncode is None]
    if waiting:
        try:
            await asyncio.wait_for(asyncio.gather(*waiting), timeout)
        except asyncio.TimeoutError:
            log("a tool process did not die in time")
    live_children.difference_update(processes)


async def kill_all_children() -> None:
    for process in list(live_children):
        kill(process)
    await reap(set(live_children), timeout=1.0)


# -- small helpers -----------------------------------------------------------------------------

def text_block(text: str) -> dict:
    return {"type": "text", "text": text}


def text_content(text: str) -> dict:
    """Tool call content holding plain text."""
    return {"type": "content", "content": text_block(text)}


def split_into_chunks(text: str, chunks: int) -> list[str]:
    """Consecutive pieces (at word boundaries) that concatenate back to text."""
    words = re.findall(r"\s*\S+\s*", text) or [text]
    count = max(1, min(chunks, len(words)))
    bounds = [round(index * len(words) / count) for index in range(count + 1)]
    return ["".join(words[bounds[i]:bounds[i + 1]]) for i in range(count)]


def preview(text: str, limit: int = 80) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def inside(cwd: str, name: str) -> str | None:
    """The absolute path of name under cwd, or None if it would leave cwd."""
    root = os.path.realpath(cwd)
    target = os.path.realpath(os.path.join(root, name))
    if target == root or os.path.commonpath([root, target]) != root:
        return None
    return target


# -- the scripts -------------------------------------------------------------------------------

Script = Callable[[Turn, str], Awaitable[str]]
PLAN_STEPS = ("Look around the working directory", "Run a harmless command there", "Write up an answer")


async def default_turn(turn: Turn, text: str) -> str:
    """A thought, a 3-step plan, a real `read` and `execute` tool call, a streamed reply."""
    await turn.think(f"The user wrote: “{preview(text)}”. ")
    await turn.pause()
    await turn.think("I have no model, so I will look around, run a harmless command and answer.")
    await turn.pause()
    await turn.plan(0)
    await turn.pause()
    entries = await list_directory(turn)
    await turn.plan(1)
    await turn.pause()
    echoed = await run_echo(turn)
    await turn.plan(2)
    await turn.pause()
    await turn.stream(compose_reply(turn.cwd, entries, echoed, text))
    await turn.plan(len(PLAN_STEPS))
    return "end_turn"


async def list_directory(turn: Turn) -> list[str]:
    call_id = turn.new_tool_call_id()
    await turn.start_tool({"toolCallId": call_id, "title": f"List {turn.cwd}", "kind": "read",
                           "status": "in_progress", "locations": [{"path": turn.cwd}],
                           "rawInput": {"path": turn.cwd}})
    await turn.pause()
    try:
        with os.scandir(turn.cwd) as scan:
            entries = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in scan)
    except OSError as exc:
        await turn.update_tool(call_id, status="failed", content=[text_content(f"Cannot list: {exc}")])
        return []
    shown = entries[:LISTING_LIMIT]
    listing = "\n".join(shown) or "(empty directory)"
    if len(entries) > len(shown):
        listing += f"\n… and {len(entries) - len(shown)} more"
    await turn.update_tool(call_id, status="completed", content=[text_content(listing)],
                           rawOutput={"entries": shown, "count": len(entries)})
    await turn.pause()
    return entries


async def run_echo(turn: Turn) -> str:
    argv = ["echo", "hello from the glue demo agent"]
    call_id = turn.new_tool_call_id()
    await turn.start_tool({"toolCallId": call_id, "title": " ".join(argv), "kind": "execute",
                           "status": "in_progress", "rawInput": {"command": argv, "cwd": turn.cwd}})
    try:
        process = await turn.spawn(*argv, stdout=PIPE)
        out, err = await process.communicate()
    except OSError as exc:
        await turn.update_tool(call_id, status="failed", content=[text_content(f"Cannot run echo: {exc}")])
        return ""
    output = out.decode(errors="replace").strip()
    status = "completed" if process.returncode == 0 else "failed"
    await turn.update_tool(call_id, status=status, content=[text_content(output)],
                           rawOutput={"exitCode": process.returncode, "stdout": output,
                                      "stderr": err.decode(errors="replace")})
    await turn.pause()
    return output


def compose_reply(cwd: str, entries: list[str], echoed: str, text: str) -> str:
    sample = ", ".join(f"`{name}`" for name in entries[:3])
    count = "1 entry" if len(entries) == 1 else f"{len(entries)} entries"
    found = count + (f" (among them {sample})" if sample else "")
    return (f"I looked around `{cwd}` and found {found}. Then I ran `echo` there, and it "
            f"printed “{echoed}”.\n\nThis is the **glue demo agent**: there is no model behind "
            f"this answer, so it is canned, but the tool calls above were real. You wrote: "
            f"“{preview(text)}”.")


async def cat(turn: Turn, text: str) -> str:
    """Read NAME through the client (ACP fs/read_text_file), as agents do, and say how it went.

    The path is sent as written (joined to cwd, not resolved): judging it is the client's job."""
    match = re.search(r"\bcat\s+(\S+)", text, re.IGNORECASE)
    name = match.group(1).strip("\"'`") if match else "README.md"
    path = os.path.join(turn.cwd, name)
    call_id = turn.new_tool_call_id()
    await turn.start_tool({"toolCallId": call_id, "title": f"Read {name}", "kind": "read",
                           "status": "in_progress", "locations": [{"path": path}], "rawInput": {"path": path}})
    try:
        result = await turn.wire.request("fs/read_text_file", {"sessionId": turn.session_id, "path": path})
    except RpcError as exc:
        details = exc.data.get("details") if isinstance(exc.data, dict) else exc.data
        message = f"{exc.message}: {details}" if details else exc.message
        await turn.update_tool(call_id, status="failed", content=[text_content(message)])
        await turn.say(f"Could not read `{name}`: {message}")
        return "end_turn"
    content = result.get("content", "") if isinstance(result, dict) else ""
    await turn.update_tool(call_id, status="completed", content=[text_content(f"{len(content)} characters")])
    await turn.say(f"Read {len(content)} characters of `{name}`.")
    return "end_turn"


async def surrogate(turn: Turn, text: str) -> str:
    """Text that is not valid Unicode, as JSON allows it: a lone surrogate ("\\ud800") in a
    session title and in a message. A client must repair it, not choke on it."""
    for update in ({"sessionUpdate": "session_info_update", "title": "Broken \ud800 title"},
                   {"sessionUpdate": "agent_message_chunk", "content": text_block("Broken \ud800 reply.")}):
        message = {"jsonrpc": "2.0", "method": "session/update",
                   "params": {"sessionId": turn.session_id, "update": update}}
        turn.wire.write_raw_line(json.dumps(message))  # ASCII: the lone surrogate goes as its escape
    await turn.wire.flush()
    return "end_turn"


async def quick(turn: Turn, text: str) -> str:
    await turn.say("Quick answer from the glue demo agent.")
    return "end_turn"


async def fix(turn: Turn, text: str) -> str:
    """Look at an attached traceback and cell; propose the cell fixed when spelling explains it."""
    await turn.think("Reading the traceback and the cell that raised it.")
    await turn.pause()
    await turn.stream(suggest_fix(turn.attachments))
    return "end_turn"


def code_of(text: str) -> str:
    """The code a `kernel` prompt asks to run: in backticks, or after "kernel:"."""
    fenced = re.search(r"```(?:python)?\n(.*?)```", text, re.DOTALL) or re.search(r"`([^`]+)`", text)
    if fenced:
        return fenced.group(1).strip()
    return text.split(":", 1)[1].strip() if ":" in text else ""


async def kernel(turn: Turn, text: str) -> str:
    """`kernel: CODE`: run code through the client's MCP kernel tool (a session started with --kernel)."""
    servers = stdio_servers(turn.mcp_servers)
    code = code_of(text)
    if not servers:
        await turn.stream("I have no kernel tool in this session: start it from a notebook with "
                          "`%glue start --kernel` to let me run code there.")
        return "end_turn"
    if not code:
        await turn.stream("Tell me what to run, e.g. “kernel: df.shape”.")
        return "end_turn"
    await turn.say(f"Running `{preview(code, 60)}` in the notebook's kernel… ")
    client = await McpClient.start(servers[0], lambda *argv, env: turn.spawn(
        *argv, stdin=PIPE, stdout=PIPE, stderr=DEVNULL, env=env))
    try:
        tools = await client.tools()
        tool = next((t for t in tools if "code" in ((t.get("inputSchema") or {}).get("properties") or {})), None)
        if tool is None:
            await turn.stream("The MCP server offers no tool that takes code.")
            return "end_turn"
        output, failed = await client.call(tool["name"], {"code": code})
    except McpError as exc:
        await turn.stream(f"The kernel tool did not answer: {exc}")
        return "end_turn"
    finally:
        client.close()
    verdict = "It failed" if failed else "The kernel answered"
    await turn.stream(f"{verdict}:\n\n```\n{output.rstrip()}\n```\n", chunks=3)
    return "end_turn"


async def snippet(turn: Turn, text: str) -> str:
    await turn.stream(suggest_code(turn.attachments), chunks=3)
    return "end_turn"


# A 16x16 blue square: an image that needs no network.
BLUE_SQUARE = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mOQLLtEEmIY"
               "1TCqYfhqAADxpWEQVaTKZwAAAABJRU5ErkJggg==")


async def picture(turn: Turn, text: str) -> str:
    """Markdown with images, as a prompt-injected agent might write: a remote one (the URL the
    prompt names, else an example host's) and one inline."""
    named = re.search(r"https?://\S+", text)
    remote = named.group(0) if named else "https://images.example.com/chart.png?q=demo"
    await turn.stream(f"Here is the chart you asked for:\n\n![sales chart]({remote})\n\n"
                      f"And a square drawn inline: ![blue square]({BLUE_SQUARE})\n", chunks=3)
    return "end_turn"


async def verbatim(turn: Turn, text: str) -> str:
    """Reply with whatever follows the keyword, as it is: what an agent whose prompt was
    injected might write (raw HTML, image URLs, …), for testing how surfaces render it."""
    await turn.stream(re.split(r"\bverbatim\b", text, maxsplit=1, flags=re.IGNORECASE)[1].strip(), chunks=2)
    return "end_turn"


async def recall(turn: Turn, text: str) -> str:
    earlier = turn.earlier_user_messages
    if not earlier:
        await turn.stream("I remember nothing earlier.")
        return "end_turn"
    listing = "\n".join(f"{number}. {preview(message, 200)}" for number, message in enumerate(earlier, 1))
    await turn.stream(f"You said earlier:\n\n{listing}\n", chunks=len(earlier) + 1)
    return "end_turn"


async def crash(turn: Turn, text: str) -> str:
    await turn.say("Starting on it… ")
    await turn.pause()
    await turn.say("so far so good… ")
    await turn.wire.flush()           # the chunks really left before we die
    log("simulated crash")
    log("exiting with code 3 in the middle of a turn")
    await kill_all_children()
    sys.stderr.flush()
    os._exit(3)


async def garbage(turn: Turn, text: str) -> str:
    for line in GARBAGE_LINES:
        turn.write_garbage(line)
    return await default_turn(turn, text)


async def flood(turn: Turn, text: str) -> str:
    for index in range(FLOOD_CHUNKS):
        await turn.say(f"flood chunk {index + 1} of {FLOOD_CHUNKS}. ")
        if index % 100 == 99:
            await asyncio.sleep(0)  # writes rarely block: give a session/cancel a chance
    return "end_turn"


async def stubborn(turn: Turn, text: str) -> str:
    turn.ignores_cancel = True
    for index in range(STUBBORN_CHUNKS):
        await turn.say(f"Still working, whatever you say ({index + 1}/{STUBBORN_CHUNKS}). ")
        await asyncio.sleep(SLOW_INTERVAL)
    return "end_turn"


async def sleep_tool(turn: Turn, text: str) -> str:
    """Start `sleep 300` and stream slowly while it runs: a turn long enough to interrupt."""
    argv = ["sleep", "300"]
    call_id = turn.new_tool_call_id()
    # stderr is inherited, as real tools do: the child keeps the agent's stderr pipe open.
    process = await turn.spawn(*argv, stderr=None)
    await turn.start_tool({"toolCallId": call_id, "title": "sleep 300", "kind": "execute",
                           "status": "in_progress", "rawInput": {"command": argv, "cwd": turn.cwd},
                           "content": [text_content(f"Started `sleep 300` (pid={process.pid})")]})
    seconds = 0
    while process.returncode is None:
        try:
            await asyncio.wait_for(process.wait(), SLOW_INTERVAL)
        except asyncio.TimeoutError:
            seconds += 1
            await turn.say(f"Waiting for sleep (pid {process.pid}): {seconds} s… ")
    status = "completed" if process.returncode == 0 else "failed"
    await turn.update_tool(call_id, status=status, rawOutput={"exitCode": process.returncode})
    await turn.say("\n\n`sleep 300` has finished.")
    return "end_turn"


WRITE_LINE = "Written by the glue demo agent.\n"


def write_target(text: str) -> str:
    match = re.search(r"\bwrite\s+(\S+)", text, re.IGNORECASE)
    name = match.group(1).strip("\"'`“”") if match else ""
    return name.rstrip(".,;:!?") or "notes.txt"


async def write_file(turn: Turn, text: str) -> str:
    """Ask permission (in mode "ask"), then write NAME in cwd and report a diff."""
    name = write_target(text)
    call_id = turn.new_tool_call_id()
    if turn.settings.mode == "plan":
        await turn.start_tool({"toolCallId": call_id, "title": f"Write {name}", "kind": "edit",
                               "status": "failed", "rawInput": {"path": name},
                               "content": [text_content("Plan mode: nothing is written.")]})
        await turn.stream(f"I am in plan mode, so I did not write `{name}`. I would append one line to it.")
        return "end_turn"
    path = inside(turn.cwd, name)
    if path is None:
        await turn.start_tool({"toolCallId": call_id, "title": f"Write {name}", "kind": "edit",
                               "status": "failed", "rawInput": {"path": name},
                               "content": [text_content("Refused: the path is outside the working directory.")]})
        await turn.stream(f"I will not write `{name}`: it is outside the working directory `{turn.cwd}`.")
        return "end_turn"
    try:
        old_text = read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        await turn.start_tool({"toolCallId": call_id, "title": f"Write {name}", "kind": "edit",
                               "status": "failed", "rawInput": {"path": path},
                               "content": [text_content(f"Cannot edit it: {exc}")]})
        await turn.stream(f"I cannot edit `{name}`: {exc}.")
        return "end_turn"
    new_text = written(name, old_text)
    # Where it writes, as agents report it: the line it adds (a notebook has cells, not lines).
    line = None if name.endswith(".ipynb") else new_text.count("\n")
    location = {"path": path, "line": line} if line else {"path": path}
    tool_call = {"toolCallId": call_id, "title": f"Write {name}", "kind": "edit", "status": "pending",
                 "locations": [location], "rawInput": {"path": path, "content": new_text}}
    # What will happen, as agents show it before approval: the diff (new file: no old text).
    diff = {"type": "diff", "path": path, "oldText": old_text, "newText": new_text}
    # "paths only": as Codex's adapter asks about a file change — before the tool call, naming
    # only the paths (no diff, no input); the tool call with its diff comes once allowed.
    paths_only = re.search(r"\bpaths only\b", text, re.IGNORECASE) is not None
    if paths_only:
        asked = {"toolCallId": call_id, "title": "Edit files", "kind": "edit", "status": "pending",
                 "locations": [{"path": path}]}
    else:
        await turn.start_tool(tool_call)
        asked = {**tool_call, "content": [diff]}
    try:
        choice = "allow" if turn.settings.mode == "auto" else await turn.ask_permission(asked)
    except RpcError as exc:
        await turn.update_tool(call_id, status="failed", content=[text_content(f"No permission: {exc}")])
        await turn.stream(f"I could not ask for permission ({exc}), so I did not write `{name}`.")
        return "end_turn"
    if choice not in ALLOWED:
        await turn.update_tool(call_id, status="failed", content=[text_content("Permission denied.")])
        await turn.stream(f"Permission to write `{name}` was denied, so I left it alone.")
        return "end_turn"
    if paths_only:
        await turn.start_tool({**tool_call, "status": "in_progress", "content": [diff]})
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as file:
        file.write(new_text)
    await turn.update_tool(call_id, status="completed", content=[diff])
    await turn.stream(f"Wrote `{name}`: the new line is `{name}:{line}`." if line else f"Wrote `{name}`.")
    return "end_turn"


EXECUTE_ARGV = ["ls", "-la"]


async def execute_command(turn: Turn, text: str) -> str:
    """Ask permission to run a (harmless) command in cwd, showing command and folder; run it if allowed."""
    call_id = turn.new_tool_call_id()
    tool_call = {"toolCallId": call_id, "title": " ".join(EXECUTE_ARGV), "kind": "execute", "status": "pending",
                 "rawInput": {"command": EXECUTE_ARGV, "cwd": turn.cwd}}
    await turn.start_tool(tool_call)
    choice = await turn.ask_permission(tool_call)
    if choice not in ALLOWED:
        await turn.update_tool(call_id, status="failed", content=[text_content("Permission denied.")])
        await turn.stream("You did not let me run it, so I did not.")
        return "end_turn"
    await turn.update_tool(call_id, status="in_progress")
    process = await turn.spawn(*EXECUTE_ARGV, stdout=PIPE)
    out, _ = await process.communicate()
    output = out.decode(errors="replace").rstrip()
    await turn.update_tool(call_id, status="completed" if process.returncode == 0 else "failed",
                           content=[text_content(output)], rawOutput={"exitCode": process.returncode})
    await turn.stream(f"I ran `{' '.join(EXECUTE_ARGV)}` in `{turn.cwd}`.")
    return "end_turn"


def written(name: str, old_text: str | None) -> str:
    """The file after the demo agent's edit: a line appended; for a notebook, a cell saying it."""
    if name.endswith(".ipynb"):
        try:
            notebook = json.loads(old_text) if old_text else {"cells": [], "metadata": {}, "nbformat": 4,
                                                              "nbformat_minor": 5}
            cells = notebook["cells"]
        except (ValueError, KeyError, TypeError):
            return (old_text or "") + WRITE_LINE  # not a notebook after all: edit it as text
        cells.append({"cell_type": "markdown", "id": f"glue-demo-{len(cells) + 1}", "metadata": {},
                      "source": [WRITE_LINE.rstrip()]})
        return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    return (old_text or "") + WRITE_LINE


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except FileNotFoundError:
        return None


async def switch(turn: Turn, text: str) -> str:
    """The agent changes its own mode (as Claude Code does when it enters plan mode)."""
    names = "|".join(re.escape(mode_id) for mode_id, _, _ in MODES)
    match = re.search(rf"\bswitch\b.*?\b({names})\b", text, re.IGNORECASE)
    if match is None:
        await turn.stream(f"Switch to which mode? I know {', '.join(m for m, _, _ in MODES)}.")
        return "end_turn"
    await turn.switch_mode(match.group(1).lower())
    await turn.stream(f"Switched to {match.group(1).lower()} mode.")
    return "end_turn"


async def edit(turn: Turn, text: str) -> str:
    """File operations in the folder: see edits.py (which builds on this module)."""
    from .edits import edit as edit_files

    return await edit_files(turn, text)


# First match wins, in this order (case-insensitive, whole words). `edit` comes first: its
# operations may contain any word (`edit run sleep 1`).
KEYWORD_SCRIPTS: list[tuple[str, Script]] = [
    ("verbatim", verbatim),
    ("kernel:", kernel),  # before the others: the code it runs may say anything ("time.sleep(1)")
    ("edit", edit),  # likewise: its operations may contain any word ("edit run sleep 1")
    ("crash", crash), ("garbage", garbage), ("flood", flood), ("stubborn", stubborn),
    ("sleep", sleep_tool), ("write", write_file), ("execute", execute_command), ("fix", fix), ("snippet", snippet), ("switch", switch),
    ("recall", recall), ("cat", cat), ("surrogate", surrogate), ("quick", quick), ("picture", picture),
]


def choose_script(text: str) -> Script:
    for keyword, script in KEYWORD_SCRIPTS:
        # "kernel:" is a keyword only with its colon ("a quick question about the kernel" is not).
        pattern = rf"\b{keyword[:-1]}\s*:" if keyword.endswith(":") else rf"\b{keyword}\b"
        if re.search(pattern, text, re.IGNORECASE):
            return script
    return default_turn
