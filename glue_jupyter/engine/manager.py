"""SessionManager: many sessions, concurrency slots, persistence across restarts.

The sibling of jupyter_client's MultiKernelManager. It knows nothing of Jupyter or HTTP, so it
runs inside the server extension or embedded in a plain IPython process alike.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time
import uuid
from collections import Counter, deque
from pathlib import Path
from typing import Callable

from .. import __version__
from ..agents.registry import AgentSpec, build_table
from .agent_check import AgentChecks
from .agent_session.listing import list_agent_sessions
from .agent_session.options import SessionOptions
from .config import EngineConfig
from .context import check_context
from .errors import AgentFailed, AgentNotInstalled, GlueError, InvalidRequest, NoFreeSlot, UnknownAgent, UnknownSession
from .groups import GroupKeeper
from .private import private_folder
from .observer import NO_OBSERVER, EngineObserver
from .inputs import check_text, check_unicode, resolve_folder
from .queue import load_queues
from .session import Session
from .states import ACTIVE, LIVE, State
from .store import Store
from .workspaces import Workspaces

SORT_KEYS: dict[str, Callable[[dict], object]] = {
    "activity": lambda s: -s["updated_at"],
    "created": lambda s: -s["created_at"],
    "state": lambda s: (s["state"], -s["updated_at"]),
    "agent": lambda s: (s["agent"], -s["updated_at"]),
    "cwd": lambda s: (s["cwd"], -s["updated_at"]),
    "title": lambda s: (s["title"].lower(), -s["updated_at"]),
}
WATCH_QUEUE_LIMIT = 10_000


def observed(control: str):
    """Report the control's latency and outcome to the manager's observer."""
    def wrap(method):
        @functools.wraps(method)
        async def timed(self, *args, **kwargs):
            started, outcome = time.monotonic(), "error"
            try:
                result = await method(self, *args, **kwargs)
                outcome = "ok"
                return result
            except GlueError:
                outcome = "refused"
                raise
            finally:
                self.observer.control_done(control, time.monotonic() - started, outcome)
        return timed
    return wrap


def _warm_up_acp() -> None:
    """Import the ACP package off the event loop, so the first start does not pay for it."""
    import glue_jupyter.agents.acp_driver  # noqa: F401


class Watch:
    """Session changes for list views: bounded; an overflowing watcher is ended."""

    def __init__(self, manager: SessionManager):
        self._manager = manager
        self._queue: deque[dict] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False

    def _put(self, message: dict) -> None:
        if self._closed:
            return
        self._queue.append(message)
        if len(self._queue) > WATCH_QUEUE_LIMIT:
            self.close()
        self._wakeup.set()

    def __aiter__(self):
        return self

    async def __anext__(self) -> dict:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._queue.popleft()

    def close(self) -> None:
        self._closed = True
        self._queue.clear()
        self._manager._watches.discard(self)
        self._wakeup.set()


class SessionManager:
    def __init__(self, config: EngineConfig | None = None, observer: EngineObserver | None = None):
        self.config = config or EngineConfig()
        self.observer = observer or NO_OBSERVER
        self.agents_table: dict[str, AgentSpec] = build_table(self.config.data_dir, self.config.agents)
        self.sessions: dict[str, Session] = {}
        self.store: Store | None = None
        self.groups: GroupKeeper | None = None
        self.checks = AgentChecks(self.config.stop_grace_period)
        self._watches: set[Watch] = set()
        self.workspaces = Workspaces(self)   # checkpoints, changes, rewind, worktrees (see workspaces.py)

    # opening and closing --------------------------------------------------------------

    async def open(self) -> None:
        private_folder(self.config.data_dir)  # glue's own folder: the agents' state lives here too
        self.store = Store(self.config.db_path)
        self.groups = GroupKeeper(self.store, self.config.stop_grace_period)
        leftovers = await self.groups.open()  # what a crash of the previous run left running
        self.workspaces.open(self.store)
        threading.Thread(target=_warm_up_acp, daemon=True).start()
        for row in self.store.load_sessions():
            session = self._session(row)
            self.sessions[row["id"]] = session
            if session.state in LIVE:
                session.mark_failed_after_restart()
            if leftovers[row["id"]]:
                session.note_leftovers_ended(leftovers[row["id"]])
        for session_id, events in load_queues(self.store.db).items():
            if session_id in self.sessions:
                self.sessions[session_id].queue.rebuild(events)
        await self.workspaces.recover()   # what a crash left half done: finished or rolled back

    async def close(self) -> None:
        """Stop every live session (they stay listed, resumable) and close the database."""
        live = [s for s in self.sessions.values() if s.state in LIVE and s.state is not State.STOPPING]
        await asyncio.gather(*(s.stop() for s in live), return_exceptions=True)
        # Controls still in flight (a stop that was already under way) finish before the store closes.
        await asyncio.gather(*(s.settle() for s in list(self.sessions.values())), return_exceptions=True)
        await self.checks.close()
        if self.groups is not None:
            await self.groups.close()
        await self.workspaces.close()
        for watch in list(self._watches):
            watch.close()
        for session in self.sessions.values():
            session.log.flush()
            session.log.close()
        if self.store is not None:
            self.store.close()
            self.store = None

    # reading --------------------------------------------------------------------------

    def info(self) -> dict:
        return {"version": __version__, "active": len(self._active()), "limit": self.config.max_active_sessions,
                "root_dir": str(self.config.root_dir.resolve())}

    def agents(self) -> list[dict]:
        """Each agent, with the options and slash commands its latest session was offered
        (what a new session's pickers can show before the agent runs)."""
        seen: dict[str, Session] = {}
        for session in sorted(self.sessions.values(), key=lambda s: s.row["updated_at"]):
            if session.options.options or session.row.get("commands"):
                seen[session.row["agent"]] = session
        described = []
        for name, spec in self.agents_table.items():
            latest = seen.get(name)
            described.append({**spec.describe(), **self._checked(spec),
                              "config": latest.options.snapshot() if latest else [],
                              "commands": (latest.row.get("commands") or []) if latest else []})
        return described

    async def check_agents(self, refresh: bool = False) -> list[dict]:
        """Like agents(), once every installed agent has been checked (agent_check.py): its
        version, whether it is signed in, what it can do. Cached; `refresh` checks again."""
        installed = [spec for spec in self.agents_table.values() if spec.resolve_argv() is not None]
        await asyncio.gather(*(self.checks.check(spec, refresh) for spec in installed))
        return self.agents()

    def _checked(self, spec: AgentSpec) -> dict:
        found = self.checks.cached(spec) if spec.resolve_argv() is not None else None
        if found is not None:
            return found
        package = spec.describe()["package"]
        return {"version": package["version"] if package else None, "signed_in": None,
                "sign_in": {"detail": "not checked yet", "hint": spec.sign_in.hint(), "methods": []},
                "capabilities": None, "check": None}

    async def agent_sessions(self, agent: str, cwd: str | None = None) -> list[dict]:
        """The agent's own sessions for a folder (ACP session/list), each marked with the glue
        session that adopted it, if any. Starts the agent briefly; needs no free slot."""
        spec = self._spec(agent)
        folder = self._folder(cwd)
        listed = await list_agent_sessions(spec, str(folder), timeout=self.config.start_timeout,
                                           grace=self.config.stop_grace_period)
        adopted = {s.row["agent_session_id"]: s.id for s in self.sessions.values() if s.row["agent"] == agent}
        return [{**entry, "glue_session_id": adopted.get(entry["agent_session_id"])} for entry in listed]

    def session(self, session_id: str) -> Session:
        if not isinstance(session_id, str) or session_id not in self.sessions:
            raise UnknownSession(str(session_id))
        return self.sessions[session_id]

    def get(self, session_id: str) -> dict:
        return self.session(session_id).snapshot()

    def list_sessions(self, state: str | None = None, agent: str | None = None, q: str | None = None,
                      sort: str = "activity", notebook: str | None = None) -> list[dict]:
        if sort not in SORT_KEYS:
            raise InvalidRequest(f"Unknown sort {sort!r}; use one of: {', '.join(SORT_KEYS)}.")
        states = set(state.split(",")) if state else None
        if states and not states <= {s.value for s in State}:
            raise InvalidRequest(f"Unknown state in {state!r}; states are: {', '.join(s.value for s in State)}.")
        matching = self.store.search(q) if q and q.strip() else None
        notebook = self._notebook(notebook)
        rows = [
            s.snapshot() for s in self.sessions.values()
            if (states is None or s.row["state"] in states)
            and (agent is None or s.row["agent"] == agent)
            and (matching is None or s.id in matching)
            and (notebook is None or s.row["notebook"] == notebook)
        ]
        if matching is not None:  # where each one matched, with a snippet to show
            for row in rows:
                row["match"] = matching[row["id"]]
        return sorted(rows, key=SORT_KEYS[sort])

    def events(self, session_id: str, after_seq: int = 0, limit: int | None = None) -> list[dict]:
        return self.session(session_id).log.events(after_seq, limit)

    def events_json(self, session_id: str, after_seq: int = 0, limit: int | None = None) -> list[str]:
        """Like `events`, each event already a JSON string: for HTTP responses."""
        return self.session(session_id).log.events_json(after_seq, limit)

    def subscribe(self, session_id: str, after_seq: int = 0):
        return self.session(session_id).log.subscribe(after_seq)

    def watch(self) -> Watch:
        watch = Watch(self)
        self._watches.add(watch)
        return watch

    def census(self) -> dict:
        """Counts for monitoring, true at the moment of asking: sessions by (state, agent), live
        agent processes and waiting permission requests by agent, the oldest request's wait (s)."""
        now = time.monotonic()
        sessions: Counter = Counter()
        processes: Counter = Counter()
        waiting: Counter = Counter()
        oldest_wait = 0.0
        for session in self.sessions.values():
            agent = session.row["agent"]
            sessions[(session.row["state"], agent)] += 1
            if session.process is not None:
                processes[agent] += 1
            for pending in session.permissions.values():
                waiting[agent] += 1
                oldest_wait = max(oldest_wait, now - pending.asked_at)
        return {"sessions": sessions, "processes": processes, "waiting": waiting, "oldest_wait": oldest_wait}

    def current_activity(self) -> list[str]:
        return [s.id for s in self.sessions.values() if s.state in (State.RUNNING, State.INTERRUPTING, State.STARTING)]

    async def wait_for(self, session_id: str, predicate: Callable[[dict], bool], timeout: float = 30) -> dict:
        session = self.session(session_id)

        async def until():
            while not predicate(session.snapshot()):
                await session.changed()
            return session.snapshot()

        return await asyncio.wait_for(until(), timeout)

    # controls -------------------------------------------------------------------------

    @observed("start")
    async def start_session(self, agent: str, cwd: str | None = None, title: str | None = None,
                            prompt: str | None = None, context: list[dict] | None = None,
                            notebook: str | None = None, mode: str | None = None, model: str | None = None,
                            config: dict | None = None, agent_session_id: str | None = None,
                            mcp_servers: list[dict] | None = None,
                            isolate: bool = False) -> dict:
        """`notebook`: the notebook the session is started from (a path; relative ones resolve
        against root_dir); the session records it, for surfaces to group and find by.
        `mcp_servers`: ACP McpServer objects the agent gets with every session/new|load|resume
        of this session (kept in memory only: they may carry credentials).
        `agent_session_id`: adopt a session the agent began elsewhere. `mode`, `model` and
        `config` ({option: value}) are applied before the prompt; a value the agent does not
        offer fails the start and leaves no session. `isolate`: the agent works in a git
        worktree of its own, on a new branch (engine/workspace/worktree.py)."""
        spec = self._spec(agent)
        folder = self._folder(cwd)
        notebook = self._notebook(notebook)
        if prompt is not None:
            prompt = self._text(prompt)
        if title is not None:
            title = check_text("title", title, self.config.max_title_length, self.config.knob("max_title_length"))
        context = _context(context, prompt)
        wishes = _wishes(mode, model, config)
        guard = SessionOptions(agent=agent, bypass_modes=spec.bypass_modes, policy=self.config.permission_policy)
        for key, value in wishes:
            guard.check_early(key, value)
        if agent_session_id is not None:
            self._check_adoptable(agent, agent_session_id)
        self._claim_slot()
        now = time.time()
        session_id = uuid.uuid4().hex
        title = (title or "").strip() or _title_from(prompt)
        if isolate:
            workspace = self.workspaces.prepare(session_id, folder)
            folder = await self.workspaces.guarded(workspace.create_worktree(title))
        row = {
            "id": session_id, "title": title, "agent": agent,
            "cwd": str(folder), "state": State.STARTING.value, "created_at": now, "updated_at": now,
            "paused_since": None, "last_seq": 0, "exit_code": None, "resumed_via": None,
            "agent_session_id": agent_session_id, "turns": 0, "error": None, "seen_seq": 0, "attention_seq": 0,
            "notebook": notebook,
        }
        self.store.insert_session(row)
        session = self._session(row)
        session.mcp_servers[:] = mcp_servers or []
        self.sessions[row["id"]] = session
        session._record("state", {"state": "starting", "previous": None})
        if isolate:
            session.workspace.record_worktree()
        session._spawn(session.workspace.warm())   # the first checkpoint, while the agent starts
        self._session_changed(session)
        adopting = agent_session_id is not None
        try:
            await session.start(spec, prompt, context, wishes, adopt=adopting)
        except GlueError:
            await self._discard(session)
            raise
        if adopting and session.state is State.FAILED:
            await self._discard(session)
            raise AgentFailed(session.row["error"] or f"{agent} could not adopt session {agent_session_id}.")
        return session.snapshot()

    @observed("configure")
    async def configure(self, session_id: str, option: str, value) -> dict:
        """Change the session's mode, model or another option the agent offers."""
        session = self.session(session_id)
        await session.configure(option, value)
        return session.snapshot()

    @observed("prompt")
    async def prompt(self, session_id: str, text: str, context: list[dict] | None = None,
                     when: str | None = None) -> dict:
        """Send now if idle; while a turn runs, queue it (`when="queue"`, the default) or
        steer/interrupt the turn for it (`when="now"`). See queue.py."""
        session = self.session(session_id)
        await session.prompt(self._text(text), check_context(context), when)
        return session.snapshot()

    async def edit_queued(self, session_id: str, message_id: str, text: str) -> dict:
        session = self.session(session_id)
        session.queue.edit(message_id, self._text(text))
        return self._changed_snapshot(session)

    async def remove_queued(self, session_id: str, message_id: str) -> dict:
        session = self.session(session_id)
        session.queue.remove(message_id)
        return self._changed_snapshot(session)

    async def send_queued_now(self, session_id: str, message_id: str) -> dict:
        """A queued message, sent at once: steered into the turn, or the turn interrupted for it."""
        session = self.session(session_id)
        item = session.queue.get(message_id)
        session.queue.remove(message_id, reason="sent now")
        await session.prompt(item.text, item.context, "now")
        return session.snapshot()

    async def fork(self, session_id: str, turn: int | None = None, title: str | None = None,
                   isolate: bool | None = None) -> dict:
        from .fork import fork

        return await fork(self, session_id, turn, title, isolate)

    @observed("interrupt")
    async def interrupt(self, session_id: str) -> dict:
        session = self.session(session_id)
        await session.interrupt()
        return session.snapshot()

    @observed("pause")
    async def pause(self, session_id: str) -> dict:
        session = self.session(session_id)
        await session.pause()
        return session.snapshot()

    @observed("stop")
    async def stop(self, session_id: str) -> dict:
        session = self.session(session_id)
        await session.stop()
        return session.snapshot()

    @observed("resume")
    async def resume(self, session_id: str, prompt: str | None = None,
                     context: list[dict] | None = None) -> dict:
        session = self.session(session_id)
        session.check("resume")
        context = _context(context, prompt)
        if prompt is not None:
            prompt = self._text(prompt)
        spec = None if session.state is State.PAUSED else self._spec(session.row["agent"])
        if spec is not None:
            self._folder(session.row["cwd"])  # the allowed roots may have narrowed since
        await session.resume(spec, prompt, context)
        return session.snapshot()

    @observed("answer")
    async def run_client_tool(self, session_id: str, title: str, kind: str, raw_input: dict, runner):
        """Run work glue does for the agent inside its current turn: recorded as a tool call,
        gated by the permission policy, cancelled with the turn (engine/client_tools.py).
        Returns the runner's ToolOutcome; raises ToolRefused when it did not run."""
        return await self.session(session_id).client_tools.run(title, kind, raw_input, runner)

    async def answer_permission(self, session_id: str, request_id: str, option_id: str) -> dict:
        session = self.session(session_id)
        if not isinstance(option_id, str) or not option_id:
            raise InvalidRequest("option_id must be a non-empty string.")
        await session.answer_permission(str(request_id), option_id)
        return session.snapshot()

    async def mark_seen(self, session_id: str, seq: int | None = None) -> dict:
        """A view showed the user this session's log up to `seq` (default: all of it)."""
        session = self.session(session_id)
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 0):
            raise InvalidRequest("seq must be a whole number, 0 or more.")
        session.mark_seen(seq)
        return session.snapshot()

    async def rename(self, session_id: str, title: str) -> dict:
        session = self.session(session_id)
        session.rename(self._title(title))
        return session.snapshot()

    @observed("forget")
    async def forget(self, session_id: str) -> None:
        session = self.session(session_id)
        async with session.control("forget"):
            self._remove(session)
        # After: nothing can reach the session any more (no await inside the control, so no
        # control can queue behind it and find it still stopped).
        await self.workspaces.forget(session)

    # helpers --------------------------------------------------------------------------

    def _session(self, row: dict) -> Session:
        session = Session(row, self.store, self.config, self._session_changed, self.observer,
                          claim_slot=lambda session: self._claim_slot(exclude=session), groups=self.groups)
        session.spec = self.agents_table.get(row["agent"])  # which of its modes the policy refuses
        self.workspaces.attach(session)
        return session

    async def _discard(self, session: Session) -> None:
        """A start that could not be completed as asked leaves nothing behind."""
        if session.state in LIVE and session.state is not State.STOPPING:
            await session.stop()
        await session.settle()
        self._remove(session)
        await self.workspaces.forget(session)   # a worktree made for it, too

    def _remove(self, session: Session) -> None:
        session.log.close()
        self.store.delete_session(session.id)
        self.sessions.pop(session.id, None)
        for watch in list(self._watches):
            watch._put({"type": "forgotten", "id": session.id})

    def _check_adoptable(self, agent: str, agent_session_id: object) -> None:
        if not isinstance(agent_session_id, str) or not agent_session_id.strip():
            raise InvalidRequest("agent_session_id must be a non-empty string.")
        for session in self.sessions.values():
            if session.row["agent"] == agent and session.row["agent_session_id"] == agent_session_id:
                raise InvalidRequest(f"The {agent} session {agent_session_id} is already glue session "
                                     f"{session.id}; resume that one instead.")

    def _spec(self, agent: str) -> AgentSpec:
        if not isinstance(agent, str) or agent not in self.agents_table:
            raise UnknownAgent(str(agent), list(self.agents_table))
        spec = self.agents_table[agent]
        if spec.resolve_argv() is None:
            raise AgentNotInstalled(agent, spec.install_hint)
        return spec

    def _folder(self, cwd: str | None) -> Path:
        config = self.config
        return resolve_folder(cwd, config.root_dir, config.allowed_roots, config.knob("allowed_roots"))

    def _title(self, title) -> str:
        """A title as typed: one line, surrounding blanks dropped, not empty, within the limit."""
        if not isinstance(title, str):
            raise InvalidRequest("The title must be a string.")
        clean = " ".join(title.split())
        if not clean:
            raise InvalidRequest("The title must not be empty.")
        return check_text("title", clean, self.config.max_title_length, self.config.knob("max_title_length"))

    def _text(self, text) -> str:
        if not isinstance(text, str) or not text.strip():
            raise InvalidRequest("The message must be a non-empty string.")
        return check_text("message", text, self.config.max_prompt_length, self.config.knob("max_prompt_length"))

    def _notebook(self, path: str | None) -> str | None:
        if path is None:
            return None
        if not isinstance(path, str) or not path.strip() or "\0" in path:
            raise InvalidRequest("notebook must be a non-empty path.")
        check_unicode("notebook", path)
        notebook = Path(os.path.expanduser(path))
        return str((notebook if notebook.is_absolute() else self.config.root_dir / notebook).resolve())

    def _active(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.state in ACTIVE]

    def _claim_slot(self, exclude: Session | None = None) -> None:
        active = [s for s in self._active() if s is not exclude]
        if len(active) >= self.config.max_active_sessions:
            raise NoFreeSlot(self.config.max_active_sessions,
                             [(s.id, s.row["title"], s.row["state"]) for s in active])

    def _add_session(self, row: dict) -> Session:
        session = self._session(row)
        self.sessions[row["id"]] = session
        self._session_changed(session)
        return session

    def _changed_snapshot(self, session: Session) -> dict:
        session.log.flush()
        session._notify()
        return session.snapshot()

    def _session_changed(self, session: Session) -> None:
        if not self._watches:
            return
        message = {"type": "session", "session": session.snapshot()}
        for watch in list(self._watches):
            watch._put(message)


def _context(context, prompt) -> list[dict]:
    """Checked context blocks; context only ever travels with a prompt."""
    if context and prompt is None:
        raise InvalidRequest("context is sent with a prompt: give the prompt too.")
    return check_context(context)


def _wishes(mode, model, config) -> list[tuple[str, object]]:
    """The options asked for at start, in the order they are applied."""
    wishes: list[tuple[str, object]] = []
    for key, value in (("mode", mode), ("model", model)):
        if value is not None:
            if not isinstance(value, str) or not value.strip():
                raise InvalidRequest(f"{key} must be a non-empty string.")
            wishes.append((key, value))
    if config is not None:
        if not isinstance(config, dict) or not all(isinstance(k, str) and k for k in config):
            raise InvalidRequest("config must be an object of option ids to values.")
        for key, value in config.items():
            if not isinstance(value, (str, bool)):
                raise InvalidRequest(f"config[{key!r}] must be a string or a boolean.")
            wishes.append((key, value))
    return wishes


def _title_from(prompt: str | None) -> str:
    if not prompt:
        return ""
    first = prompt.strip().splitlines()[0] if prompt.strip() else ""
    return first[:80]
