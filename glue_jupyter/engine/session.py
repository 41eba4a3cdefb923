"""One session: the state machine of docs/contract.md around one agent process at a time.

Every control goes through `Session.control(name)`: it is checked against the table in
states.py the instant it arrives (an illegal one is refused at once, naming the state), then
runs in turn with the session's other controls, one at a time, and changes state before it
awaits anything. The one exception to "in turn" is a stop: it cancels a launch in flight
rather than waiting for it, so a session never stays starting against the user's will. A
launch runs as a task of its own, bound to the control that asked for it; it never outlives
that control, so no agent process is ever started that the session does not own. The
transcript is the event log: what the agent sends is recorded in wire order, except what the lifecycle says must not
be (updates of an interrupted turn, a native load's replay, output arriving while paused,
which is held and recorded on thaw).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable

from ..agents.acp_events import command_of, option_for, permission_request, touched_paths, translate_update
from ..agents.files import AgentFiles
from ..agents.registry import AgentSpec, scrubbed_environment
from .agent_session.control import AGENT_STATE_UPDATES, AgentSessionMixin
from .attention import ATTENTION_STOP_REASONS, needs_you
from .client_tools import ClientTools, deliver
from .config import EngineConfig
from .context import to_acp
from .errors import IllegalControl, InvalidOption, StoreFailed, UnknownPermissionRequest
from .events import EventLog
from .groups.keeper import UNTRACKED, GroupKeeper, Untracked
from .observer import NO_OBSERVER, EngineObserver
from .process import AgentProcess
from .queue import MessageQueue, send_or_queue
from .resume import SEED_CHAR_LIMIT, build_seed
from .states import ADVICE, ENDED, LEGAL, State
from .store import Store

GARBAGE_NOTICES_PER_PROCESS = 5
REPLAY_QUIET = 0.25  # seconds without an update that end a replay after session/load
REPLAY_LIMIT = 10.0  # the longest such a replay is waited for
STDERR_LINES_IN_TRANSCRIPT = 20


@dataclass
class ToolCall:
    """What a turn needs to remember of one tool call until it completes."""

    kind: str | None = None
    paths: set[str] = field(default_factory=set)  # files it would change (diffs, edit locations)
    command: str | None = None


@dataclass
class Turn:
    number: int
    cancelled: bool = False  # set at the moment of an interrupt or stop: drop what follows
    closed: bool = False
    # Files the turn changed and commands it ran: a tool call counts once it completed (a
    # write that was refused, failed or interrupted changed nothing), a write through
    # fs/write_text_file as soon as it is done.
    files: set[str] = field(default_factory=set)
    commands: list[str] = field(default_factory=list)
    tools: dict[str, ToolCall] = field(default_factory=dict)
    started_at: float = field(default_factory=time.monotonic)
    ended: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    task: asyncio.Task | None = None


@dataclass
class PendingPermission:
    raw_id: Any
    option_ids: list[str]
    asked_at: float = field(default_factory=time.monotonic)


class Session(AgentSessionMixin):
    def __init__(self, row: dict, store: Store, config: EngineConfig, on_change: Callable[["Session"], None],
                 observer: EngineObserver = NO_OBSERVER,
                 claim_slot: Callable[["Session"], None] = lambda session: None,
                 groups: GroupKeeper | Untracked = UNTRACKED):
        self.row = row
        self.groups = groups  # where each agent's process group is recorded while it lives
        self.observer = observer
        self.store = store
        self.config = config
        self._on_change = on_change
        self._claim_slot = claim_slot  # raises NoFreeSlot; called right before becoming active
        self.log = EventLog(store, row["id"], row["last_seq"], on_stored=self._on_stored)
        self._init_agent_session()
        self._spec: AgentSpec | None = None
        self.process: AgentProcess | None = None
        self.driver = None
        self.turn: Turn | None = None
        self.permissions: dict[str, PendingPermission] = {}
        self._paused_from: State | None = None
        self._held: list[Callable[[], None]] = []
        self._replaying = False
        self._last_update_at = 0.0  # loop time of the last session/update from the agent
        self._importing = False  # an adopted session's replay is recorded (see _reattach)
        self._imported_user: list[str] = []
        self._seed: str | None = None
        self._garbage_seen = 0
        self._changed = asyncio.Event()
        self._background: set[asyncio.Task] = set()
        self._turnstile = asyncio.Lock()  # one control at a time
        self._launching: asyncio.Task | None = None  # the launch in flight, for a stop to cancel
        self._stops_waiting = 0  # stops queued at the turnstile: no new launch may begin
        self.client_tools = ClientTools(self)  # work glue does for the agent (client_tools.py)
        self.mcp_servers: list[dict] = []  # ACP mcpServers given to every session/new|load|resume
        self.queue = MessageQueue(row["id"], self._record)   # messages sent while a turn runs
        self.workspace = None   # checkpoints, rewind, worktree: attached by engine/workspaces.py

    def _spawn(self, coro) -> asyncio.Task:
        """Run in the background, holding a reference (the loop keeps only weak ones)."""
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    @property
    def spec(self) -> AgentSpec | None:
        return self._spec

    @spec.setter
    def spec(self, spec: AgentSpec | None) -> None:
        self._spec = spec
        self.options.bypass_modes = list(spec.bypass_modes) if spec is not None else []

    # identity and snapshot ------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.row["id"]

    @property
    def state(self) -> State:
        return State(self.row["state"])

    def snapshot(self) -> dict:
        pending = len(self.permissions)
        snap = {**self.row, "pending_permissions": pending, "needs_you": needs_you(self.row, pending),
                **self.agent_session_snapshot(), "queue": self.queue.snapshot(),
                "workspace": self.workspace.describe() if self.workspace is not None else None}
        snap.pop("config_chosen", None)
        return snap

    def _update(self, **fields) -> None:
        """Change fields of the session: at once in memory, stored with the log's next batch."""
        self.row.update(fields)
        self.log.set_fields(fields)

    @contextlib.contextmanager
    def _all_or_nothing(self):
        """The body's changes (fields and events) are stored in one transaction before this
        returns, or undone in memory too and StoreFailed raised: a control never half-happens.

        For the synchronous part of a control, before it acts on the world (signals, the wire).
        """
        mark, row = self.log.mark(), dict(self.row)
        try:
            with self.log.holding():
                yield
            self.log.commit()
        except StoreFailed:
            self.log.rollback(mark)
            self.row.clear()
            self.row.update(row)
            self._notify()
            raise

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
        self._on_change(self)

    async def changed(self) -> None:
        await self._changed.wait()

    def _on_stored(self, last_event: dict) -> None:
        self.row["last_seq"] = last_event["seq"]
        self.row["updated_at"] = last_event["ts"]

    def _record(self, kind: str, data: dict, turn: int | None = None) -> int:
        return self.log.append(kind, data, turn)

    # what the user has seen -------------------------------------------------------------

    def mark_seen(self, seq: int | None = None) -> None:
        """A view showed the user the log up to `seq` (default: all of it); never goes back."""
        upto = self.log.last_seq if seq is None else min(seq, self.log.last_seq)
        if upto > self.row["seen_seq"]:
            self._update(seen_seq=upto)
            self._notify()

    def rename(self, title: str) -> None:
        self._update(title=title)
        self._record("session_info", {"title": title, "renamed": True},
                     self.turn.number if self.turn else None)
        self.log.flush()
        self._notify()

    def _set_state(self, new: State) -> None:
        previous = self.state
        if new == previous:
            return
        fields: dict = {"state": new.value}
        if new is State.PAUSED:
            fields["paused_since"] = time.time()
        elif previous is State.PAUSED:
            fields["paused_since"] = None
        self._update(**fields)
        seq = self._record("state", {"state": new.value, "previous": previous.value})
        if new is State.FAILED:
            self._update(attention_seq=seq)
        self.log.flush()  # a state change is visible to every reader when the control returns
        self._notify()
        if new is State.IDLE and self.queue:
            self._spawn(self.send_queued())

    def check(self, control: str) -> None:
        state = self.state
        if state not in LEGAL[control]:
            raise IllegalControl(self.id, control, state.value, ADVICE.get((control, state), ""), self.row["title"])

    # the turnstile every control goes through ------------------------------------------

    @contextlib.asynccontextmanager
    async def control(self, name: str):
        """Run the body as control `name`: refused at once when illegal now, else in turn.

        Uncontended (the usual case) it enters without yielding to the loop, so a control
        still changes state in the same step it arrives in. A stop overtakes a launch in
        flight: it cancels the launch (which leaves its process to the stop to end) and keeps
        any further launch from beginning while it waits.
        """
        self.check(name)
        overtakes = name == "stop"
        if overtakes:
            self._stops_waiting += 1
            if self._launching is not None:
                self._launching.cancel()
        try:
            await self._turnstile.acquire()
        finally:
            if overtakes:
                self._stops_waiting -= 1
        try:
            self.check(name)  # the state may have moved while it waited its turn
            yield
        finally:
            self._turnstile.release()

    async def settle(self) -> None:
        """Return once no control is in progress on this session."""
        async with self._turnstile:
            pass

    # launching ------------------------------------------------------------------------

    async def start(self, spec: AgentSpec, prompt: str | None = None, context: list[dict] | None = None,
                    wishes: list[tuple[str, object]] = (), adopt: bool = False) -> None:
        """Launch a new session's agent (the session is STARTING already), set the options
        asked for (`wishes`: (option, value), a refusal raises), then prompt it. `adopt`:
        re-attach to the agent session in the row, begun elsewhere."""
        async with self._turnstile:
            await self._launch(spec, resume=adopt, adopt=adopt)
            if self.state is State.IDLE:
                for key, value in wishes:
                    await self._configure(key, value)
            if prompt and self.state is State.IDLE:
                self._prompt(prompt, context)

    async def _launch(self, spec: AgentSpec, *, resume: bool, reason: str = "", adopt: bool = False) -> None:
        """Run the launch as a task bound to the calling control (which holds the turnstile).

        A stop cancels the task, not the control: the control returns and the stop, next
        through the turnstile, ends whatever process the launch left. A control that is
        cancelled itself takes its launch down with it.
        """
        if self._stops_waiting:
            return  # a stop is queued: it ends the session before any process is started
        task = asyncio.ensure_future(self._launch_agent(spec, resume=resume, reason=reason, adopt=adopt))
        self._launching = task
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not asyncio.current_task().cancelling():
                return  # a stop cancelled the launch; the stop decides the outcome
            task.cancel()
            await asyncio.wait([task])
            if self.state is State.STARTING:
                await self._terminate_process()
                self._fail("The start was abandoned before the agent was ready.")
            raise
        finally:
            self._launching = None

    async def _launch_agent(self, spec: AgentSpec, *, resume: bool, reason: str = "", adopt: bool = False) -> None:
        """From STARTING: spawn the agent, initialize, and create or re-attach the ACP session.

        On failure the session ends FAILED with the reason in its transcript. Cancelled (by
        a stop), it leaves the session STARTING and its process adopted, for the stop to end.
        `adopt`: re-attach natively to a session the agent began elsewhere, or fail (there is
        no transcript of ours to seed it with).
        """
        from ..agents.acp_driver import AcpDriver, error_text, is_auth_required

        self.spec = spec
        self._garbage_seen = 0
        # The user's options, to put back on the agent session: after a resume, or on a fork's
        # fresh one (a new session has chosen nothing yet).
        wanted = self.options.wanted()
        argv = spec.resolve_argv() or spec.argv
        cwd = self.row["cwd"]
        try:
            env = scrubbed_environment({**spec.env, **self.groups.marker()})
            process = await AgentProcess.spawn(argv, cwd, env)
        except OSError as exc:
            self._fail(f"Could not launch {spec.name} ({argv[0]}): {exc.strerror or exc}")
            return
        self.groups.track(self.id, process.pgid, env, argv)
        process.expected_exit = False
        self.process = process  # adopted at once: whoever ends the session ends it
        self.usage.new_process()
        files = AgentFiles(Path(cwd), self.config.max_agent_file_size, self.config.knob("max_agent_file_size"))
        self.driver = AcpDriver(process.stdout, process.stdin, cwd, sink=self, missing_file=spec.missing_file,
                                files=files)
        self.driver.mcp_servers = self.mcp_servers
        self._record("process_start", {"pid": process.pid, "argv": argv})
        self._spawn(self._watch(process))
        try:
            await asyncio.wait_for(self.driver.initialize(), self.config.start_timeout)
            if resume:
                await self._reattach(reason, adopt)
            else:
                answer = await self._signed_in(lambda: self.driver.new_session(cwd))
                self._update(agent_session_id=answer["sessionId"])
                self._take_offers(answer)
            await self._hold_permission_policy()
            if wanted:
                await self._reapply(wanted)
        except Exception as exc:
            if isinstance(exc, ConnectionError):
                # Its output closed: usually it is dying, and _watch records how. Give it a
                # moment to finish; one that lingers with its output closed is ended below.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(process.proc.wait()), 2)
            if self.process is not process or self.state is not State.STARTING:
                return  # the crash already decided the outcome
            if process.returncode is None:
                if isinstance(exc, asyncio.TimeoutError):
                    text = f"no answer within {self.config.start_timeout:.0f} s"
                elif is_auth_required(exc):
                    text = f"it is not signed in ({error_text(exc)}). {spec.sign_in.hint()}".rstrip()
                else:
                    text = error_text(exc)
                await self._terminate_process()
                self._fail(f"{spec.name} failed to start: {text}")
            return
        if self.state is State.STARTING:
            self._set_state(State.IDLE)

    async def _signed_in(self, open_session):
        """Open an ACP session; if the agent wants a sign-in that a set API key variable
        provides (an auth method the registry knows), authenticate with it and try once more."""
        from ..agents.acp_driver import is_auth_required

        try:
            return await asyncio.wait_for(open_session(), self.config.start_timeout)
        except Exception as exc:
            method = self.spec.sign_in.method_for(self.driver.auth_methods, scrubbed_environment(self.spec.env))
            if not is_auth_required(exc) or method is None:
                raise
        await asyncio.wait_for(self.driver.authenticate(method), self.config.start_timeout)
        return await asyncio.wait_for(open_session(), self.config.start_timeout)

    async def _hold_permission_policy(self) -> None:
        """Put the agent in its mode that asks before writing or running (the registry's
        `start_mode`), so that every such decision reaches the permission policy. A session
        left in a mode that would bypass the policy is not started, unless the policy is "allow".
        The switch is a `config_change` by "policy" in the transcript."""
        from ..agents.acp_options import MODE, find
        from .errors import AgentFailed

        spec, option = self.spec, find(self.options.options, MODE)
        target = spec.start_mode
        if option is None or option["type"] != "select" or not target:
            return
        current, problem = option["value"], ""
        if current != target:
            if target in {c["value"] for c in option["choices"]}:
                try:
                    await self._send_option(option, target, by="policy")
                    current = target
                except AgentFailed as exc:
                    problem = str(exc)
            else:
                problem = f"it does not offer its {target!r} mode"
        if self.options.bypasses(option, current):
            raise PermissionError(
                f"{spec.title} is in its {current!r} mode, in which it writes files or runs commands "
                f"without asking, and {problem}. With the permission policy "
                f"{self.config.permission_policy!r} it is not started: set its default mode to "
                f"{target!r} in its own settings, or use the policy 'allow'.")
        if problem:
            self._record("notice", {"level": "warning", "text": f"{spec.title}: {problem}; it stays in its "
                                    f"{current!r} mode."})

    async def _reattach(self, reason: str, adopt: bool = False) -> None:
        """Resume the conversation in the new process: natively if we can, else seed it."""
        from ..agents.acp_driver import error_text

        cwd = self.row["cwd"]
        agent_sid = self.row.get("agent_session_id")
        trusted = self.spec.trust_load_session if self.spec else True
        attempts = []
        if agent_sid and self.driver.can_load and trusted:
            attempts.append(("session/load", self.driver.load_session))
        if agent_sid and self.driver.can_resume:
            attempts.append(("session/resume", self.driver.resume_session))
        failures = []
        for method, call in attempts:
            # The agent replays its history: ours is the source of truth, except for a session
            # adopted from elsewhere, where the replay is all the history there is.
            self._replaying = not adopt
            self._importing = adopt
            try:
                answer = await self._signed_in(partial(call, agent_sid, cwd))
                if method == "session/load" and self.spec.replays_after_load:
                    await self._replay_settles()
            except Exception as exc:
                if self.process is None or self.process.returncode is not None:
                    raise
                failures.append(f"{method} failed: {error_text(exc)}")
                continue
            finally:
                self._replaying = False
                self._importing = False
                self._end_import()
            self._take_offers(answer)
            verb = "adopted the agent's own session" if adopt else "re-attached to the agent's session"
            self._resumed("native", f"{reason}{verb} {agent_sid} with {method}")
            return
        if not attempts:
            why = "the agent cannot load sessions" if agent_sid else "no agent session id was recorded"
            failures.append(why)
        if adopt:
            raise ValueError(f"could not adopt the agent's session {agent_sid}: {'; '.join(failures)}")
        answer = await self._signed_in(lambda: self.driver.new_session(cwd))
        self._update(agent_session_id=answer["sessionId"])
        self._take_offers(answer)
        self._seed, count = build_seed(self.store, self.id, SEED_CHAR_LIMIT)
        if failures and attempts:
            self._record("notice", {"level": "warning",
                                    "text": "Native resume failed; falling back to seeding. " + "; ".join(failures)})
        detail = f"{'; '.join(failures)}; new agent session seeded with the prior transcript ({count} messages)"
        self._resumed("seeded", f"{reason}{detail}")

    async def _replay_settles(self) -> None:
        """For an agent that replays its history after answering session/load (Gemini CLI):
        the replay is over once it has been quiet for REPLAY_QUIET seconds (at most
        REPLAY_LIMIT). Until then what it sends is history, never part of the next turn."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPLAY_LIMIT
        self._last_update_at = max(self._last_update_at, loop.time())  # quiet since the answer
        while (quiet := loop.time() - self._last_update_at) < REPLAY_QUIET and loop.time() < deadline:
            await asyncio.sleep(REPLAY_QUIET - quiet)

    def _resumed(self, via: str, detail: str) -> None:
        self._update(resumed_via=via)
        self._record("resume", {"via": via, "detail": detail})

    # prompts and turns ----------------------------------------------------------------

    async def prompt(self, text: str, context: list[dict] | None = None, when: str | None = None) -> None:
        """Start a turn when idle; otherwise queue the message or steer/interrupt for it (queue.py)."""
        await send_or_queue(self, text, context or [], when)

    def _prompt(self, text: str, context: list[dict] | None = None, queued_id: str | None = None) -> None:
        """Start a turn (the caller holds the turnstile and the session is IDLE).
        `context`: checked blocks (context.py), sent after the text; `queued_id`: the queued
        message (queue.py) this turn sends."""
        number = self.row["turns"] + 1
        attached, sent = to_acp(context or [], self.driver.takes_embedded_context)
        with self._all_or_nothing():
            # Whoever sends the next message has seen what came before it.
            self._update(turns=number, seen_seq=max(self.row["seen_seq"], self.log.last_seq))
            self._record("turn_start", {"turn": number}, number)
            message = {"text": text, "context": sent} if sent else {"text": text}
            self._record("user_message", {**message, "queued_id": queued_id} if queued_id else message, number)
            self._set_state(State.RUNNING)
        # Stored: now the turn exists, in memory and on the wire.
        turn = Turn(number)
        self.turn = turn
        blocks = [{"type": "text", "text": t} for t in ([self._seed, text] if self._seed else [text])]
        self._seed = None
        self.driver.prompt_soon()
        turn.task = self._spawn(self._run_turn(turn, blocks + attached))

    async def _run_turn(self, turn: Turn, blocks: list[dict]) -> None:
        from ..agents.acp_driver import error_text, is_auth_required

        driver, process = self.driver, self.process
        usage = None
        if self.workspace is not None:  # the folder as it is before the agent acts on the prompt
            await self.workspace.before_turn(turn.number)
            if turn.cancelled:  # interrupted or stopped meanwhile: the prompt never goes out
                driver.transport.prompt_on_wire.set()
                self._after_wire(partial(self._end_turn, turn, "cancelled"))
                return
        try:
            reason, usage = await driver.prompt(self.row["agent_session_id"], blocks)
        except Exception as exc:
            if isinstance(exc, ConnectionError) or process is None or process.returncode is not None:
                return  # the process is gone: _watch or stop() ends the turn
            if not turn.cancelled:
                text = f"The agent failed the prompt: {error_text(exc)}"
                if is_auth_required(exc) and self.spec is not None:
                    text += f". {self.spec.title} is not signed in. {self.spec.sign_in.hint()}".rstrip()
                self._record("notice", {"level": "error", "text": text},
                             turn.number)
            reason = "failed"
        self._after_wire(partial(self._end_turn, turn, reason, usage))

    def _end_turn(self, turn: Turn, stop_reason: str, usage: dict | None = None, settle: bool = True) -> None:
        """Record the turn's end; `settle`: then move the session on (idle), else the caller does."""
        if turn.closed:
            return
        turn.closed = True
        if self.state is State.STOPPING and stop_reason != "failed":
            stop_reason = "stopped"
        elif turn.cancelled and stop_reason not in ("stopped", "failed"):
            stop_reason = "cancelled"
        end = {"turn": turn.number, "stop_reason": stop_reason, "files": sorted(turn.files),
               "commands": turn.commands}
        if usage:  # tokens the agent counted for this turn
            end["usage"] = usage
            self._count_turn_usage(usage)
        seq = self._record("turn_end", end, turn.number)
        if stop_reason in ATTENTION_STOP_REASONS:
            self._update(attention_seq=seq)
        self.observer.turn_ended(self.row["agent"], stop_reason, time.monotonic() - turn.started_at)
        if self.workspace is not None:  # the folder as the turn left it, and what it changed
            self._spawn(self.workspace.after_turn(turn.number))
        if self.turn is turn:
            self.turn = None
        if not turn.ended.done():
            turn.ended.set_result(stop_reason)
        if not settle:
            return
        if self.state in (State.RUNNING, State.INTERRUPTING):
            self._set_state(State.IDLE)
        else:
            self.log.flush()
            self._notify()

    async def send_queued(self) -> None:
        """Start the next queued message's turn, if the session is free for it."""
        async with self._turnstile:
            busy = self.workspace is not None and self.workspace.operation
            if self.state is State.IDLE and self.queue and not busy:
                item = self.queue.pop()
                self._prompt(item.text, item.context, queued_id=item.id)

    async def steer(self, item) -> bool:
        """Put a queued message into the running turn with the agent's native steering.
        False when the agent did not take it (then it stays queued)."""
        turn = self.turn
        attached, sent = to_acp(item.context, self.driver.takes_embedded_context)
        blocks = [{"type": "text", "text": item.text}, *attached]
        if turn is None or await self.driver.steer(self.row["agent_session_id"], blocks) != "injected":
            return False
        self.queue.take(item.id)
        message = {"text": item.text, "queued_id": item.id, "steered": True}
        self._record("user_message", {**message, "context": sent} if sent else message, turn.number)
        self.log.flush()
        self._notify()
        return True

    async def wait_turn_end(self, timeout: float | None = None) -> str | None:
        turn = self.turn
        if turn is None:
            return None
        return await asyncio.wait_for(asyncio.shield(turn.ended), timeout)

    # what arrives from the agent (WireSink) ------------------------------------------

    def _after_wire(self, action: Callable[[], None]) -> None:
        """Run now, or hold until thaw while paused (nothing is recorded while paused)."""
        if self.state is State.PAUSED:
            self._held.append(action)
        else:
            action()

    def on_update(self, params: dict) -> None:
        self._last_update_at = asyncio.get_running_loop().time()
        update = params.get("update") or {}
        if update.get("sessionUpdate") in AGENT_STATE_UPDATES:  # not history: kept during a replay too
            self._after_wire(partial(self._apply_agent_state, update, self._replaying or self._importing))
            return
        if self._importing:
            self._import_update(update)
            return
        if self._replaying:
            return
        self._after_wire(partial(self._apply_update, params, self._before_prompt()))

    def _before_prompt(self) -> bool:
        """A turn has begun but its prompt is not on the wire yet: what arrives now was sent
        before the agent could see the prompt (e.g. history Gemini CLI replays after answering
        session/load), so it is not part of the turn."""
        driver = self.driver
        return self.turn is not None and driver is not None and not driver.transport.prompt_on_wire.is_set()

    def _apply_update(self, params: dict, before_prompt: bool = False) -> None:
        translated = translate_update(params.get("update") or {})
        if translated is None:
            return
        kind, data = translated
        turn = None if before_prompt else self.turn
        if kind == "session_info":
            if not data.keys() - {"_meta"}:
                return  # status pings (Codex's adapter sends two a turn): nothing a reader can use
            title = data.get("title")
            if title and isinstance(title, str) and not self.row["title"]:
                self._update(title=title[: self.config.max_title_length])  # rides in every list
                self._notify()
            # Session-wide news: part of a turn only while that turn is live.
            self._record(kind, data, turn.number if turn is not None and not turn.cancelled else None)
            return
        if turn is None or turn.cancelled or kind == "user_message_chunk":
            return  # late output of an ended or interrupted turn; the agent's echo of our prompt
        if kind in ("tool_call", "tool_call_update"):
            self._note_tool_call(turn, data)
        self._record(kind, data, turn.number)

    def _note_tool_call(self, turn: Turn, data: dict) -> None:
        tool = turn.tools.setdefault(data.get("tool_call_id", ""), ToolCall())
        tool.kind = data.get("kind", tool.kind)
        tool.paths.update(self._relative(p) for p in touched_paths(data, tool.kind))
        if tool.kind == "execute" and ("raw_input" in data or tool.command is None):
            tool.command = command_of(data) or tool.command
        if data.get("status") == "completed":
            turn.files.update(tool.paths)
            if tool.kind == "execute" and tool.command and tool.command not in turn.commands:
                turn.commands.append(tool.command)

    def _import_update(self, update: dict) -> None:
        """One update of an adopted session's replay, recorded outside any turn."""
        translated = translate_update(update)
        if translated is None:
            return
        kind, data = translated
        if kind == "user_message_chunk":
            self._imported_user.append(data.get("text", ""))
            return
        self._end_import()
        if kind != "session_info":
            self._record(kind, data)

    def _end_import(self) -> None:
        """A replayed user message is complete once something else follows it."""
        if self._imported_user:
            self._record("user_message", {"text": "".join(self._imported_user)})
            self._imported_user = []

    def on_file_written(self, path: str) -> None:
        if self.turn is not None:
            self.turn.files.add(self._relative(path))

    def _relative(self, path: str) -> str:
        cwd = Path(self.row["cwd"])
        try:
            return str(Path(path).resolve().relative_to(cwd.resolve()))
        except ValueError:
            return path

    def on_garbage(self, text: str) -> None:
        self._garbage_seen += 1
        if self._garbage_seen > GARBAGE_NOTICES_PER_PROCESS + 1:
            return
        if self._garbage_seen == GARBAGE_NOTICES_PER_PROCESS + 1:
            note = "The agent keeps printing non-protocol output on stdout; further lines are ignored."
        else:
            note = f"Ignored non-protocol output from the agent on stdout: {text[:300]}"
        self._record("notice", {"level": "warning", "text": note}, self.turn.number if self.turn else None)

    def on_permission_request(self, request_id: Any, params: dict) -> None:
        if self._replaying:
            self._answer_later(request_id, None)
            return
        self._after_wire(partial(self._apply_permission_request, request_id, params))

    def _apply_permission_request(self, request_id: Any, params: dict) -> None:
        turn = self.turn
        if turn is None or turn.cancelled:
            self._answer_later(request_id, None)
            return
        data = permission_request(request_id, params)
        # Ours, not the agent's JSON-RPC id: a new agent process counts from 0 again, so a
        # stale button or `allow` could answer another request. The event's seq never repeats.
        data["request_id"] = str(self.log.last_seq + 1)
        self._record("permission_request", data, turn.number)
        policy = self.config.permission_policy
        if policy != "ask":
            chosen = option_for(data["options"], "allow" if policy == "allow" else "deny")
            self._record("permission_answer", {"request_id": data["request_id"],
                                               "outcome": "selected" if chosen else "cancelled",
                                               "option_id": chosen, "by": "policy"}, turn.number)
            self._answer_later(request_id, chosen)
            return
        self.permissions[data["request_id"]] = PendingPermission(
            request_id, [o["option_id"] for o in data["options"]])
        self.log.flush()
        self._notify()

    def _answer_later(self, raw_id: Any, option_id: str | None) -> None:
        if self.driver is not None:
            self._spawn(self.driver.answer_permission(raw_id, option_id))

    async def answer_permission(self, request_id: str, option_id: str) -> None:
        async with self.control("answer a permission request of"):
            pending = self.permissions.get(request_id)
            if pending is None:
                raise UnknownPermissionRequest(self.id, request_id)
            if option_id not in pending.option_ids:
                raise InvalidOption(
                    f"{option_id!r} is not an option of permission request {request_id}; "
                    f"the options are: {', '.join(pending.option_ids)}.")
            with self._all_or_nothing():
                self._record("permission_answer", {"request_id": request_id, "outcome": "selected",
                                                   "option_id": option_id}, self.turn.number if self.turn else None)
            del self.permissions[request_id]
            self._settled(pending, "answered")
            self._notify()
            driver = self.driver
        if not deliver(pending.raw_id, option_id):  # ours (client_tools.py), or the agent's
            await driver.answer_permission(pending.raw_id, option_id)  # a pipe write: outside the turnstile

    def _record_withdrawals(self) -> None:
        """Record every pending request as answered `cancelled` (then `_withdraw_permissions`)."""
        for request_id in self.permissions:
            self._record("permission_answer", {"request_id": request_id, "outcome": "cancelled"},
                         self.turn.number if self.turn else None)

    def _withdraw_permissions(self) -> None:
        """Tell the agent every pending request is cancelled: after this, no dead buttons anywhere;
        and stop the client tools still running (the turn is being interrupted or stopped)."""
        self.client_tools.cancel_all()
        for pending in self.permissions.values():
            if not deliver(pending.raw_id, None):  # ours (client_tools.py), or the agent's
                self._answer_later(pending.raw_id, None)
            self._settled(pending, "withdrawn")
        self.permissions.clear()

    def _settled(self, pending: PendingPermission, outcome: str) -> None:
        self.observer.permission_settled(self.row["agent"], outcome, time.monotonic() - pending.asked_at)

    # controls -------------------------------------------------------------------------

    async def interrupt(self) -> None:
        """Cancel the turn; return once it ended (restarting an agent that ignores the cancel).

        Only the switch to INTERRUPTING holds the turnstile: a stop may come while we wait.
        """
        async with self.control("interrupt"):
            turn = self.turn
            with self._all_or_nothing():
                self._record_withdrawals()
                self._set_state(State.INTERRUPTING)
            turn.cancelled = True  # from this instant nothing more of the turn is recorded
            self._withdraw_permissions()
            driver, agent_sid = self.driver, self.row["agent_session_id"]
        await driver.cancel(agent_sid)
        try:
            await asyncio.wait_for(asyncio.shield(turn.ended), self.config.interrupt_timeout)
        except asyncio.TimeoutError:
            async with self._turnstile:
                if self.state is State.INTERRUPTING and self.turn is turn:  # nothing overtook us
                    await self._escalate(turn)

    async def _escalate(self, turn: Turn) -> None:
        self._record("notice", {"level": "warning", "text": (
            f"The agent did not end the turn within {self.config.interrupt_timeout:g} s of the interrupt; "
            "restarting it and resuming the session.")}, turn.number)
        await self._terminate_process()
        self._end_turn(turn, "cancelled")
        self._set_state(State.STARTING)
        await self._launch(self.spec, resume=True, reason="restarted after an ignored interrupt; ")

    async def pause(self) -> None:
        async with self.control("pause"):
            paused_from = self.state
            with self._all_or_nothing():
                self._set_state(State.PAUSED)
            self._paused_from = paused_from
            await self.process.freeze()

    async def resume(self, spec: AgentSpec | None, prompt: str | None = None,
                     context: list[dict] | None = None) -> None:
        """Thaw a paused session, or relaunch a stopped or failed one; then prompt it."""
        async with self.control("resume"):
            if prompt is not None and self.state is State.PAUSED and self._paused_from is State.RUNNING:
                raise IllegalControl(self.id, "resume with a message", "paused in the middle of a turn",
                                     "Resume it without a message, then wait for the turn or interrupt it.",
                                     self.row["title"])
            self._claim_slot(self)
            if self.state is State.PAUSED:
                self._thaw()
            else:
                with self._all_or_nothing():
                    self.mark_seen()  # resuming is acting on what the session showed
                    self._update(error=None)
                    self._set_state(State.STARTING)
                if self.workspace is not None:  # the last turn's checkpoint is written before the agent is back
                    await self.workspace.settle()
                await self._launch(spec or self.spec, resume=True)
            if prompt is not None and self.state is State.IDLE:
                self._prompt(prompt, context)

    def _thaw(self) -> None:
        """Resume from PAUSED: continue the process and record what it sent meanwhile."""
        paused_for = time.time() - (self.row["paused_since"] or time.time())
        with self._all_or_nothing():
            self.mark_seen()  # resuming is acting on what the session showed
            self._set_state(self._paused_from or State.IDLE)
            self._resumed("thaw", f"continued after {paused_for:.1f} s paused")
        self.process.thaw()
        held, self._held = self._held, []
        for action in held:
            action()
        self.log.flush()
        self._notify()

    async def stop(self) -> None:
        async with self.control("stop"):
            # A frozen agent cannot answer session/close, nor one still starting: skip it then.
            attached = self.state in (State.IDLE, State.RUNNING, State.INTERRUPTING)
            held, self._held = self._held, []
            for action in held:  # what arrived before a freeze belongs to the transcript
                action()
            with self._all_or_nothing():
                self._record_withdrawals()
                self._set_state(State.STOPPING)
            if self.turn is not None:
                self.turn.cancelled = True
            self._withdraw_permissions()
            if attached:
                await self._close_agent_session()
            await self._terminate_process()
            if self.turn is not None:
                self._end_turn(self.turn, "stopped")
            self._set_state(State.STOPPED)

    async def _terminate_process(self) -> None:
        process, driver = self.process, self.driver
        if process is None:
            return
        process.expected_exit = True
        # Not to be cut short by a cancellation: a half-ended group is the worst outcome.
        ending = asyncio.ensure_future(process.terminate(self.config.stop_grace_period))
        try:
            code = await asyncio.shield(ending)
        except asyncio.CancelledError:
            await asyncio.wait([ending])
            raise
        finally:
            if ending.done():
                self.groups.untrack(process.pgid)
        if driver is not None:
            await driver.close()
        self._record("process_exit", {"code": code, "signal": process.exit_signal, "requested": True})
        self.observer.process_exited(self.row["agent"], requested=True)
        self._update(exit_code=code)
        self.process, self.driver = None, None

    async def _watch(self, process: AgentProcess) -> None:
        """The agent died on its own: end the turn, keep the evidence, become FAILED."""
        code = await process.wait()
        if process.expected_exit:
            return
        await process.stderr_settled()
        process.kill_now()  # its tool processes die with it: nothing is left orphaned
        await process.group_gone()
        self.groups.untrack(process.pgid)
        if process.expected_exit or self.process is not process:
            return
        self._record("process_exit", {"code": code, "signal": process.exit_signal, "requested": False})
        self.observer.process_exited(self.row["agent"], requested=False)
        tail = list(process.stderr_tail)[-STDERR_LINES_IN_TRANSCRIPT:]
        if tail:
            self._record("stderr", {"lines": tail})
        if self._held:  # it died while frozen? record what it said before
            held, self._held = self._held, []
            for action in held:
                action()
        for pending in self.permissions.values():
            self._settled(pending, "withdrawn")
        self.permissions.clear()
        if self.turn is not None:
            self._end_turn(self.turn, "failed", settle=False)  # straight to FAILED, not via IDLE
        last = f": {tail[-1]}" if tail else ""
        how = f"signal {process.exit_signal}" if process.exit_signal else f"code {code}"
        self._update(exit_code=code, error=f"The agent exited unexpectedly ({how}){last}")
        driver, self.process, self.driver = self.driver, None, None
        if driver is not None:
            self._spawn(driver.close())
        self._set_state(State.FAILED)

    def _fail(self, error: str) -> None:
        self._update(error=error)
        self._record("notice", {"level": "error", "text": error})
        self._set_state(State.FAILED)

    def mark_failed_after_restart(self) -> None:
        """The program ended while this session was live: it comes back FAILED, resumable."""
        self._close_what_the_crash_left()
        self._record("notice", {"level": "warning", "text": "The server stopped while this session was live."})
        if self.row["paused_since"] is not None:
            self._update(paused_since=None)
        self._update(error="The server stopped while this session was live.")
        self._set_state(State.FAILED)

    def _close_what_the_crash_left(self) -> None:
        """Withdraw the requests that were waiting and end the turn that was running when the
        program died, so that every surface closes their buttons and spinners."""
        open_turn, waiting = None, {}
        kinds = ("turn_start", "turn_end", "permission_request", "permission_answer")
        for row in self.store.transcript_rows(self.id, kinds):
            kind, data = row["kind"], row["data"]
            if kind == "turn_start":
                open_turn = data.get("turn", row["turn"])
            elif kind == "turn_end" and data.get("turn", row["turn"]) == open_turn:
                open_turn = None
            elif kind == "permission_request":
                waiting[data.get("request_id")] = row["turn"]
            elif kind == "permission_answer":
                waiting.pop(data.get("request_id"), None)
        for request_id, turn in waiting.items():
            self._record("permission_answer", {"request_id": request_id, "outcome": "cancelled",
                                               "by": "server_stopped"}, turn)
        if open_turn is not None:
            self._record("turn_end", {"turn": open_turn, "stop_reason": "server_stopped", "files": [],
                                      "commands": []}, open_turn)

    def note_leftovers_ended(self, count: int) -> None:
        """Processes its agent left running when the program died were ended at this open."""
        self._record("notice", {"level": "info", "text": (
            f"Ended {count} process{'es' if count != 1 else ''} that its agent left running when the "
            "server stopped.")})

    def kill_now(self) -> None:
        if self.process is not None:
            self.process.kill_now()

    @property
    def ended(self) -> bool:
        return self.state in ENDED


__all__ = ["Session", "Turn"]
