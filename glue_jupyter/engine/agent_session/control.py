"""The part of a Session that keeps and steers the agent's own session state: options (set by
the user, re-applied after a resume, changed by the agent), usage, slash commands, and a
graceful `session/close` before a stop.

A mixin of engine/session.py's Session, whose attributes it uses: row, config, spec, driver,
process, turn, log, _record, _update, _notify, check, state.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from ...agents.acp_options import MODE, MODEL, commands, current, options_from_session, usage_update
from ..errors import AgentFailed
from ..states import ENDED
from .options import Change, SessionOptions, choice_name
from .usage import UsageMeter

CONFIGURE = "change the mode, model or options of"
CONFIG_TIMEOUT = 15.0  # seconds an agent has to take a new mode, model or option
AGENT_STATE_UPDATES = frozenset({"current_mode_update", "config_option_update", "usage_update",
                                 "available_commands_update"})


class AgentSessionMixin:
    def _init_agent_session(self) -> None:
        row = self.row
        self.options = SessionOptions(agent=row["agent"], options=row.get("config") or [],
                                      chosen=set(row.get("config_chosen") or []),
                                      policy=self.config.permission_policy)
        self.usage = UsageMeter(row.get("usage"))
        self._setting: set[str] = set()  # options with a change of ours in flight

    def agent_session_snapshot(self) -> dict:
        options = self.options.options
        return {"config": self.options.snapshot(), "mode": current(options, MODE),
                "model": current(options, MODEL), "usage": self.usage.snapshot(),
                "commands": self.row.get("commands") or []}

    def _turn_number(self) -> int | None:
        turn = self.turn
        return turn.number if turn is not None and not turn.cancelled else None

    def _save_options(self) -> None:
        self._update(config=self.options.options, config_chosen=sorted(self.options.chosen))

    # -- what the agent offers --------------------------------------------------------------

    def _take_offers(self, answer: dict) -> None:
        """A session/new, load or resume answer: the agent's fresh options, no events."""
        self.options.replace(options_from_session(answer), by="agent")
        self._save_options()

    def _record_changes(self, changes: list[Change]) -> None:
        for change in changes:
            self._record("config_change", change.event(), self._turn_number())
            if change.by == "agent" and self.options.bypasses(change.option, change.value):
                self._record("notice", {"level": "warning", "text": (
                    f"{self.row['agent']} switched itself to mode {choice_name(change.option, change.value)}, "
                    "in which it writes files or runs commands without asking: the permission policy "
                    f"{self.config.permission_policy!r} no longer holds for it. Choose another mode to restore it.")},
                    self._turn_number())
        if changes:
            self._save_options()
            self.log.flush()
            self._notify()

    def _apply_agent_state(self, update: dict, replaying: bool) -> None:
        """current_mode_update, config_option_update, usage_update, available_commands_update."""
        kind = update.get("sessionUpdate")
        if kind == "current_mode_update":
            option = next((o for o in self.options.options if o.get("category") == MODE or o["id"] == MODE), None)
            mode = update.get("currentModeId")
            if option is None or not isinstance(mode, str):
                return
            change = self.options.set_value(option["id"], mode, by="agent")
            quiet = replaying or option["id"] in self._setting
            self._record_changes([change] if change and not quiet else [])
            if change and quiet:
                self._save_options()
        elif kind == "config_option_update":
            fresh = options_from_session({"configOptions": update.get("configOptions")}, self.options.options)
            quiet = frozenset(o["id"] for o in fresh) if replaying else frozenset(self._setting)
            self._record_changes(self.options.replace(fresh, by="agent", quiet=quiet))
            self._save_options()
        elif kind == "usage_update":
            data = usage_update(update)
            self.usage.on_update(data)
            self._update(usage=self.usage.snapshot())
            if not replaying:
                self._record("usage", data, self._turn_number())
            self._notify()
        elif kind == "available_commands_update":
            found = commands(update)
            self._update(commands=found)
            self._record("commands", {"commands": found}, None)
            self._notify()

    def _count_turn_usage(self, tokens: dict | None) -> None:
        if tokens:
            self.usage.on_turn(tokens)
            self._update(usage=self.usage.snapshot())

    # -- changes the user asks for ----------------------------------------------------------

    async def configure(self, key: Any, value: Any) -> None:
        """Set an option now (live) or for the next resume (stopped, failed), in turn with the
        session's other controls (the agent's answer is awaited: at most CONFIG_TIMEOUT)."""
        async with self.control(CONFIGURE):
            await self._configure(key, value)

    async def _configure(self, key: Any, value: Any) -> None:
        """The body of configure, for a caller that holds the turnstile (start)."""
        option, value = self.options.resolve(key, value)
        self.options.check_policy(option, value)
        self.options.chosen.add(option["id"])
        if self.state in ENDED:
            change = self.options.set_value(option["id"], value, by="user")
            if change is not None:
                self._record("config_change", {**change.event(), "pending": True})
            self._save_options()
            self.log.flush()
            self._notify()
            return
        await self._send_option(option, value, by="user")

    async def _send_option(self, option: dict, value: Any, by: str) -> None:
        from ...agents.acp_driver import error_text

        driver, previous = self.driver, option["value"]
        what = f"{option['name'].lower()} {choice_name(option, value)!r}"
        self._setting.add(option["id"])
        timeout = min(CONFIG_TIMEOUT, self.config.start_timeout)
        try:
            answer = await asyncio.wait_for(driver.set_option(self.row["agent_session_id"], option, value), timeout)
        except asyncio.TimeoutError:
            raise AgentFailed(f"{self.row['agent']} did not answer within {timeout:g} s "
                              f"when asked to switch to {what}.") from None
        except Exception as exc:
            if self.driver is not driver:
                raise AgentFailed(f"The agent process ended before it switched to {what}.") from None
            raise AgentFailed(f"{self.row['agent']} refused {what}: {error_text(exc)}") from None
        finally:
            self._setting.discard(option["id"])
        changes = []
        if answer.get("configOptions") is not None:
            fresh = options_from_session(answer, self.options.options)
            changes = self.options.replace(fresh, by="agent", quiet=frozenset({option["id"]}))
        mine = next((o for o in self.options.options if o["id"] == option["id"]), None)
        if mine is not None:
            if answer.get("configOptions") is None:
                mine["value"] = value  # set_mode / set_model answer nothing: it holds now
            if mine["value"] != previous:
                changes.insert(0, Change(mine, previous, mine["value"], by))
        self._record_changes(changes)
        self._save_options()

    async def _reapply(self, wanted: list[tuple[str, Any]]) -> None:
        """After a resume: the user's options, at their latest values, on the fresh agent session."""
        for option_id, value in wanted:
            option = next((o for o in self.options.options if o["id"] == option_id), None)
            problem = None
            if option is None:
                problem = "the agent no longer offers this option"
            elif option["value"] == value:
                continue
            elif option["type"] == "select" and value not in {c["value"] for c in option["choices"]}:
                problem = "the agent no longer offers this value"
            elif self.options.bypasses(option, value):
                problem = f"the permission policy {self.config.permission_policy!r} forbids it"
            if problem is None:
                try:
                    await self._send_option(option, value, by="resume")
                    continue
                except AgentFailed as exc:
                    problem = str(exc)
            self._record("notice", {"level": "warning", "text": (
                f"Could not restore {option_id} = {value!r} after the resume ({problem}); "
                "the agent's default applies.")})

    # -- stopping ---------------------------------------------------------------------------

    async def _close_agent_session(self) -> None:
        """ACP session/close before the signals, when the agent offers it (bounded)."""
        driver, process, agent_sid = self.driver, self.process, self.row.get("agent_session_id")
        if driver is None or process is None or process.returncode is not None or not agent_sid:
            return
        if not driver.can_close:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(driver.close_session(agent_sid), self.config.close_timeout)


__all__ = ["AGENT_STATE_UPDATES", "AgentSessionMixin", "CONFIGURE"]
