"""The built-in demo agent: a real Agent Client Protocol agent over stdio, with no model.

Run it as ``python -m glue_jupyter.agents.demo [--state-dir DIR] [--pace SECONDS] [--no-load]
[--refuse-load] [--ignore-sigterm] [--legacy-options | --no-options] [--hang-on-close]
[--start-mode MODE] [--replay-after-load] [--session-info]``. What each prompt keyword does is in docs/contract.md
("The demo agent"). Stdlib only, so that it answers ``initialize`` a few tens of milliseconds
after it was started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ... import __version__
from .settings import Settings, commands_update
from .turns import Turn, choose_script, kill_all_children, split_prompt
from .wire import (INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND,
                        RESOURCE_NOT_FOUND, RpcError, Wire, log, open_output)

PROTOCOL_VERSION = 1
REPLAY_PIECE = 4000  # replayed messages are split so no single line gets huge
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # also keeps history files inside the state dir
LIST_PAGE = 25  # session/list answers this many at a time (with a nextCursor for more)


@dataclass
class Options:
    state_dir: str
    pace: float = 0.12
    load: bool = True            # advertise loadSession
    refuse_load: bool = False
    ignore_sigterm: bool = False
    embedded_context: bool = True  # advertise promptCapabilities.embeddedContext
    offers: str = "config"       # "config", "legacy" or "none": how modes, models, options are offered (settings.py)
    hang_on_close: bool = False  # never answer session/close (a client must not wait forever)
    close: bool = True           # advertise session/close
    start_mode: str = "ask"      # the mode new and loaded sessions start in (Claude Code's is "auto")
    replay_after_load: bool = False  # replay the history after answering session/load (Gemini CLI)
    session_info: bool = False   # Codex-style session_info updates around every turn
    per_turn_tool_ids: bool = False  # number tool calls per turn (ids repeat across turns)
    fork: bool = True              # advertise sessionCapabilities.fork (session/fork)
    steering: bool = False         # advertise and take `_session/steering` (a message joins a running turn)


@dataclass
class Session:
    id: str
    cwd: str
    history: list = field(default_factory=list)   # [{"role": "user"|"agent", "text": ...}]
    turn: Turn | None = None
    mcp_servers: list = field(default_factory=list)  # as the client gave them (not kept)
    closed: bool = False    # by session/close: recorded with the history, so a client can tell
    # Not kept with the history: a loaded session starts in the default mode and model, as
    # real agents' sessions do, so a client must re-apply what the user chose.
    settings: Settings = field(default_factory=Settings)
    always_allowed: set = field(default_factory=set)  # tool kinds allowed "always" in this session


def default_state_dir() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "glue-demo-agent")


class HistoryStore:
    """Each session's history as one JSON file, keyed by the ACP sessionId."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._make_private()

    def _make_private(self) -> None:
        """Histories are their user's alone; repairs what an older version left readable (one
        stat when there is nothing to repair)."""
        try:
            if os.stat(self.directory).st_mode & 0o077 == 0:
                return
            os.chmod(self.directory, 0o700)
            for name in os.listdir(self.directory):
                os.chmod(os.path.join(self.directory, name), 0o600)
        except OSError:
            pass  # not there yet (save creates it 0700), or not ours to change

    def _path(self, session_id: str) -> str:
        return os.path.join(self.directory, f"{session_id}.json")

    def save(self, session: Session) -> None:
        path = self._path(session.id)
        try:
            # A transcript is its user's alone: the folder 0700, each history 0600.
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            with open(fd, "w", encoding="utf-8") as file:
                json.dump({"sessionId": session.id, "cwd": session.cwd, "history": session.history,
                           "closed": session.closed}, file)
            os.chmod(path + ".tmp", 0o600)  # a .tmp left over by an older version may be 0644
            os.replace(path + ".tmp", path)  # never leave a half-written history behind
        except OSError as exc:
            log(f"cannot save the history of {session.id}: {exc}")

    def load(self, session_id: str) -> list | None:
        if not SESSION_ID.match(session_id):
            return None
        try:
            with open(self._path(session_id), encoding="utf-8") as file:
                return json.load(file).get("history", [])
        except (OSError, ValueError, AttributeError):
            return None

    def listing(self, cwd: str | None) -> list[dict]:
        """ACP SessionInfo of every stored session (in cwd, if given), most recent first."""
        found = []
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        for name in names:
            if not name.endswith(".json"):
                continue
            path = os.path.join(self.directory, name)
            try:
                with open(path, encoding="utf-8") as file:
                    data = json.load(file)
                mtime = os.path.getmtime(path)
            except (OSError, ValueError):
                continue
            if not isinstance(data, dict) or (cwd is not None and data.get("cwd") != cwd):
                continue
            first = next((e.get("text") for e in data.get("history") or [] if e.get("role") == "user"), None)
            info = {"sessionId": data.get("sessionId"), "cwd": data.get("cwd"),
                    "updatedAt": datetime.fromtimestamp(mtime, timezone.utc).isoformat()}
            if first:
                info["title"] = " ".join(first.split())[:80]
            found.append((mtime, info))
        found.sort(key=lambda pair: pair[0], reverse=True)
        return [info for _, info in found]


# -- params validation (a malformed request is answered -32602) ----------------------------------

def require(params: dict, key: str, kind: type | tuple) -> object:
    value = params.get(key)
    if not isinstance(value, kind):
        raise RpcError(INVALID_PARAMS, f"Invalid params: {key!r} is missing or has the wrong type",
                       {"field": key})
    return value


def require_cwd(params: dict) -> str:
    cwd = require(params, "cwd", str)
    if not os.path.isabs(cwd) or not os.path.isdir(cwd):
        raise RpcError(INVALID_PARAMS, f"Invalid params: cwd must be an absolute path to an existing "
                                       f"directory, not {cwd!r}", {"field": "cwd"})
    if "mcpServers" in params and not isinstance(params["mcpServers"], list):
        raise RpcError(INVALID_PARAMS, "Invalid params: 'mcpServers' must be a list", {"field": "mcpServers"})
    return cwd


def as_params(params: object) -> dict:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: expected an object")
    return params


# -- the agent ------------------------------------------------------------------------------------

class DemoAgent:
    def __init__(self, wire: Wire, options: Options) -> None:
        self.wire = wire
        self.options = options
        self.store = HistoryStore(options.state_dir)
        self.sessions: dict[str, Session] = {}
        self._requests = {
            "initialize": self.initialize,
            "session/new": self.new_session,
            "session/load": self.load_session,
            "session/prompt": self.prompt,
            "session/list": self.list_sessions,
            "session/close": self.close_session,
            "session/fork": self.fork_session,
            "_session/steering": self.steer,
        }
        if options.offers in ("config", "legacy"):
            self._requests["session/set_mode"] = self.set_mode
        if options.offers == "config":
            self._requests["session/set_config_option"] = self.set_config_option
        if options.offers == "legacy":
            self._requests["session/set_model"] = self.set_model
        self._tasks: set[asyncio.Task] = set()

    async def handle_request(self, method: str, params: object) -> dict:
        handler = self._requests.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}", {"method": method})
        return await handler(as_params(params))

    def handle_notification(self, method: str, params: object) -> None:
        if method == "session/cancel" and isinstance(params, dict):
            self.cancel(params)
        # other notifications: nothing to do (JSON-RPC never answers a notification)

    async def initialize(self, params: dict) -> dict:
        require(params, "protocolVersion", (int, str))
        return {
            "protocolVersion": PROTOCOL_VERSION,
            "agentCapabilities": {
                "loadSession": self.options.load,
                "promptCapabilities": {"image": False, "audio": False,
                                       "embeddedContext": self.options.embedded_context},
                "mcpCapabilities": {"http": False, "sse": False},
                "sessionCapabilities": {"list": {}, **({"close": {}} if self.options.close else {}),
                                        **({"fork": {}} if self.options.fork else {})},
            },
            "agentInfo": {"name": "glue-demo", "title": "Glue demo agent", "version": __version__},
            "authMethods": [],
            "_meta": {"steering": {"supported": self.options.steering}},
        }

    def _new_settings(self) -> Settings:
        return Settings(mode=self.options.start_mode)

    async def new_session(self, params: dict) -> dict:
        session = Session(id=os.urandom(16).hex(), cwd=require_cwd(params), settings=self._new_settings(),
                          mcp_servers=params.get("mcpServers") or [])
        self.sessions[session.id] = session
        self.store.save(session)
        self._announce_commands(session)
        return {"sessionId": session.id, **session.settings.session_fields(self.options.offers)}

    def _announce_commands(self, session: Session) -> None:
        """Slash commands go out right after the answer (the answer is written first)."""
        self._soon(self.wire.notify("session/update", {"sessionId": session.id, "update": commands_update()}))

    def _soon(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _session_info(self, session: Session, status: str, title: str | None = None) -> None:
        """As Codex's adapter does: a `_meta`-only status update, and a title at a turn's end."""
        if not self.options.session_info:
            return
        update: dict = {"sessionUpdate": "session_info_update", "_meta": {"glue-demo": {"status": status}}}
        if title is not None:
            update.update(title=title, updatedAt=datetime.now(timezone.utc).isoformat())
        await self.wire.notify("session/update", {"sessionId": session.id, "update": update})

    async def load_session(self, params: dict) -> dict:
        if not self.options.load:
            raise RpcError(METHOD_NOT_FOUND, "session/load is not supported (the demo agent runs with --no-load)",
                           {"method": "session/load"})
        session_id = require(params, "sessionId", str)
        cwd = require_cwd(params)
        if self.options.refuse_load:
            raise RpcError(INTERNAL_ERROR, "demo agent was told to refuse session/load")
        history = self.store.load(session_id)
        if history is None:
            raise RpcError(RESOURCE_NOT_FOUND, f"unknown session {session_id!r}: the demo agent has no "
                                               f"history for it", {"sessionId": session_id})
        running = self.sessions.get(session_id)
        if running is not None and running.turn is not None:
            raise RpcError(INVALID_REQUEST, f"session {session_id} has a prompt running")
        session = Session(id=session_id, cwd=cwd, history=history, settings=self._new_settings(),
                          mcp_servers=params.get("mcpServers") or [])
        if self.options.replay_after_load:  # the answer goes out first, the history after it
            self._soon(self._replay(session, paced=True))
        else:
            await self._replay(session)
        self.sessions[session_id] = session
        self._announce_commands(session)
        return session.settings.session_fields(self.options.offers)

    async def fork_session(self, params: dict) -> dict:
        """A new session holding a copy of this one's history (saved, so it can be loaded)."""
        if not self.options.fork:
            raise RpcError(METHOD_NOT_FOUND, "session/fork is not supported (the demo agent runs with --no-fork)",
                           {"method": "session/fork"})
        source = self.sessions.get(require(params, "sessionId", str))
        history = source.history if source is not None else self.store.load(params["sessionId"])
        if history is None:
            raise RpcError(RESOURCE_NOT_FOUND, f"unknown session {params['sessionId']!r}")
        if source is not None and source.turn is not None:
            raise RpcError(INVALID_REQUEST, f"session {source.id} has a prompt running")
        session = Session(id=os.urandom(16).hex(), cwd=require_cwd(params), history=[dict(e) for e in history])
        self.sessions[session.id] = session
        self.store.save(session)
        return {"sessionId": session.id, **session.settings.session_fields(self.options.offers)}

    async def steer(self, params: dict) -> dict:
        """`_session/steering`: the message joins the running turn; without one, the client is
        told to send it as a prompt (`idleBehavior: promptRequired`, the only behaviour here)."""
        if not self.options.steering:
            raise RpcError(METHOD_NOT_FOUND, "Method not found: _session/steering", {"method": "_session/steering"})
        session = self._session(require(params, "sessionId", str))
        text, _seeded, _attachments = split_prompt(require(params, "prompt", list))
        if session.turn is None or session.turn.cancelled:
            return {"outcome": "promptRequired", "reason": "noRunningTurn"}
        session.history.append({"role": "user", "text": text})
        self.store.save(session)
        await session.turn.steer(text)
        return {"outcome": "injected"}

    async def _replay(self, session: Session, paced: bool = False) -> None:
        """The history as updates; `paced`: streamed at --pace, as replies are."""
        kinds = {"user": "user_message_chunk", "agent": "agent_message_chunk"}
        for entry in session.history:
            kind, text = kinds.get(entry.get("role")), entry.get("text") or ""
            for start in range(0, len(text) if kind else 0, REPLAY_PIECE):
                if paced:
                    await asyncio.sleep(self.options.pace)
                await self.wire.notify("session/update", {"sessionId": session.id, "update": {
                    "sessionUpdate": kind,
                    "content": {"type": "text", "text": text[start:start + REPLAY_PIECE]}}})

    async def prompt(self, params: dict) -> dict:
        session = self._session(require(params, "sessionId", str))
        blocks = require(params, "prompt", list)
        if not all(isinstance(block, dict) and isinstance(block.get("type"), str) for block in blocks):
            raise RpcError(INVALID_PARAMS, "Invalid params: every prompt block needs a 'type'", {"field": "prompt"})
        if session.turn is not None:
            raise RpcError(INVALID_REQUEST, f"session {session.id} already has a prompt running")
        # Everything up to turn.run is synchronous, so a session/cancel right behind finds the turn.
        user_text, seeded, attachments = split_prompt(blocks)
        session.history.extend(seeded)
        earlier = [entry["text"] for entry in session.history if entry.get("role") == "user"]
        session.history.append({"role": "user", "text": user_text})
        self.store.save(session)
        turn = session.turn = Turn(self.wire, session.id, session.cwd, self.options.pace, earlier, attachments,
                                   session.settings, self.options.offers, session.mcp_servers)
        turn.per_turn_tool_ids = self.options.per_turn_tool_ids
        turn.always_allowed = session.always_allowed
        await self._session_info(session, "active")
        try:
            stop_reason = await turn.run(choose_script(user_text), user_text)
        finally:
            session.turn = None
            if turn.reply:
                session.history.append({"role": "agent", "text": "".join(turn.reply)})
            self.store.save(session)
        # Also after a cancel, before the answer to the prompt: the client has ended the turn.
        title = next((e["text"] for e in session.history if e.get("role") == "user"), "")[:40]
        await self._session_info(session, "idle", title=title)
        if stop_reason == "cancelled":
            return {"stopReason": stop_reason}
        usage = session.settings.turn_usage(user_text, "".join(turn.reply), "".join(turn.thoughts))
        await self.wire.notify("session/update", {"sessionId": session.id,
                                                  "update": session.settings.usage_update(session.history)})
        return {"stopReason": stop_reason, "usage": usage}

    async def set_mode(self, params: dict) -> dict:
        session = self._session(require(params, "sessionId", str))
        session.settings.set_mode(params.get("modeId"))
        return {}

    async def set_model(self, params: dict) -> dict:
        session = self._session(require(params, "sessionId", str))
        session.settings.set_model(params.get("modelId"))
        return {}

    async def set_config_option(self, params: dict) -> dict:
        session = self._session(require(params, "sessionId", str))
        session.settings.set_option(require(params, "configId", str), params.get("value"))
        return {"configOptions": session.settings.config_options()}

    async def list_sessions(self, params: dict) -> dict:
        cwd = params.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            raise RpcError(INVALID_PARAMS, "Invalid params: 'cwd' must be a string", {"field": "cwd"})
        cursor = params.get("cursor")
        start = int(cursor) if isinstance(cursor, str) and cursor.isdigit() else 0
        listing = self.store.listing(cwd)
        page = listing[start:start + LIST_PAGE]
        answer: dict = {"sessions": page}
        if start + LIST_PAGE < len(listing):
            answer["nextCursor"] = str(start + LIST_PAGE)
        return answer

    async def close_session(self, params: dict) -> dict:
        session_id = require(params, "sessionId", str)
        if self.options.hang_on_close:
            log("not answering session/close (--hang-on-close)")
            await asyncio.Event().wait()
        session = self._session(session_id)
        if session.turn is not None:
            session.turn.cancel(force=True)
        del self.sessions[session_id]
        session.closed = True
        self.store.save(session)
        return {}

    def cancel(self, params: dict) -> None:
        session = self.sessions.get(params.get("sessionId"))
        if session is not None and session.turn is not None:
            session.turn.cancel()

    def abort_all_turns(self) -> None:
        for session in self.sessions.values():
            if session.turn is not None:
                session.turn.cancel(force=True)

    def _session(self, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            raise RpcError(RESOURCE_NOT_FOUND, f"unknown session {session_id!r}", {"sessionId": session_id})
        return session


# -- process life ---------------------------------------------------------------------------------

EXIT_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


async def serve(options: Options) -> int | signal.Signals:
    """Serve until stdin ends, stdout closes or a signal says stop; returns the exit code or signal."""
    loop = asyncio.get_running_loop()
    wire = Wire(await open_output())
    agent = DemoAgent(wire, options)
    stop_signal: asyncio.Future = loop.create_future()

    def on_signal(signum: signal.Signals) -> None:
        if signum == signal.SIGTERM and options.ignore_sigterm:
            log("ignoring SIGTERM (--ignore-sigterm)")
        elif not stop_signal.done():
            stop_signal.set_result(signum)

    for signum in EXIT_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)

    serving = asyncio.ensure_future(wire.serve(agent.handle_request, agent.handle_notification))
    stdout_gone = asyncio.ensure_future(wire.gone.wait())
    await asyncio.wait({serving, stdout_gone, stop_signal}, return_when=asyncio.FIRST_COMPLETED)
    agent.abort_all_turns()
    await kill_all_children()
    if stop_signal.done():
        return stop_signal.result()
    if serving.done() and not serving.cancelled() and serving.exception() is not None:
        log(f"failed: {serving.exception()!r}")
        return 1
    return 0


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m glue_jupyter.agents.demo",
                                     description="glue_jupyter's demo ACP agent (no model, no network)")
    parser.add_argument("--state-dir", default=None, help="where session histories are kept")
    parser.add_argument("--pace", type=float, default=0.12, help="seconds between streamed chunks")
    parser.add_argument("--no-load", action="store_true", help="do not advertise loadSession")
    parser.add_argument("--refuse-load", action="store_true", help="advertise loadSession but refuse it")
    parser.add_argument("--ignore-sigterm", action="store_true", help="keep running on SIGTERM")
    parser.add_argument("--no-embedded-context", action="store_true",
                        help="do not advertise embedded context (clients then send resources as text)")
    offers = parser.add_mutually_exclusive_group()
    offers.add_argument("--legacy-options", action="store_const", dest="offers", const="legacy",
                        help="offer modes and a model list the older way (no config options)")
    offers.add_argument("--no-options", action="store_const", dest="offers", const="none",
                        help="offer no modes, models or config options")
    parser.add_argument("--hang-on-close", action="store_true", help="never answer session/close")
    parser.add_argument("--no-close", action="store_true", help="do not advertise session/close")
    parser.add_argument("--start-mode", default="ask", choices=["ask", "plan", "auto"],
                        help="the mode sessions start in (Claude Code starts in its auto mode)")
    parser.add_argument("--replay-after-load", action="store_true",
                        help="replay the history after answering session/load, as Gemini CLI does")
    parser.add_argument("--session-info", action="store_true",
                        help="send session_info updates around every turn, as Codex's adapter does")
    parser.add_argument("--per-turn-tool-ids", action="store_true",
                        help="number tool calls call-1, call-2… in every turn, as some agents do")
    parser.add_argument("--no-fork", action="store_true", help="do not advertise session/fork")
    parser.add_argument("--steering", action="store_true",
                        help="advertise _session/steering: a message sent mid-turn joins the turn")
    args = parser.parse_args(argv)
    if args.pace < 0:
        parser.error("--pace must not be negative")
    return Options(state_dir=args.state_dir or default_state_dir(), pace=args.pace,
                   load=not args.no_load, refuse_load=args.refuse_load, ignore_sigterm=args.ignore_sigterm,
                   embedded_context=not args.no_embedded_context, offers=args.offers or "config",
                   hang_on_close=args.hang_on_close, close=not args.no_close, start_mode=args.start_mode,
                   replay_after_load=args.replay_after_load, session_info=args.session_info,
                   per_turn_tool_ids=args.per_turn_tool_ids,
                   fork=not args.no_fork, steering=args.steering)


def main(argv: list[str] | None = None) -> None:
    outcome = asyncio.run(serve(parse_args(argv)))
    sys.stderr.flush()
    if isinstance(outcome, signal.Signals):
        # Die of the signal itself, so whoever waits on us sees how we ended.
        signal.signal(outcome, signal.SIG_DFL)
        os.kill(os.getpid(), outcome)
        os._exit(128 + outcome)
    # os._exit: do not wait for the stdin reader thread or flush a closed stdout.
    os._exit(outcome)


