"""One session's options (mode, model, other config): what the agent offers, what the user
chose, and what may be chosen at all.

The option list has the shape of agents/acp_options.py. The user names an option by its id,
or by "mode"/"model" whatever the agent calls it, and a value by its id or its name in any
case ("plan", "Plan Mode"). Options the user set are remembered by id and re-applied after a
resume, with their latest value (which the agent itself may have changed since).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...agents.acp_options import MODE, covers, find
from ..errors import InvalidRequest, ModeRefused

TRUE_WORDS = {"true", "on", "yes", "1"}
FALSE_WORDS = {"false", "off", "no", "0"}


@dataclass
class Change:
    option: dict
    previous: object
    value: object
    by: str  # "user" | "agent" | "resume"

    def event(self) -> dict:
        """The `config_change` event's data."""
        return {"option": self.option["id"], "name": self.option["name"],
                "value": self.value, "value_name": choice_name(self.option, self.value),
                "previous": self.previous, "by": self.by}


def choice_name(option: dict, value: object) -> str:
    if option["type"] == "boolean":
        return "on" if value else "off"
    return next((c["name"] for c in option["choices"] if c["value"] == value), str(value))


def _describe(option: dict) -> str:
    if option["type"] == "boolean":
        return "true or false"
    return ", ".join(c["value"] if c["name"] == c["value"] else f"{c['value']} ({c['name']})"
                     for c in option["choices"])


@dataclass
class SessionOptions:
    agent: str
    options: list[dict] = field(default_factory=list)
    chosen: set[str] = field(default_factory=set)
    bypass_modes: list[str] = field(default_factory=list)
    policy: str = "ask"

    # -- naming what the user means ----------------------------------------------------------

    def resolve(self, key: object, value: object) -> tuple[dict, object]:
        """(option, the agent's own spelling of value); InvalidRequest naming the choices."""
        if not isinstance(key, str) or not key:
            raise InvalidRequest("option must be a non-empty string (e.g. \"mode\" or \"model\").")
        option = find(self.options, key)
        if option is None:
            offered = ", ".join(o["id"] for o in self.options)
            what = f"it offers: {offered}" if offered else "it offers no modes, models or options"
            raise InvalidRequest(f"{self.agent} has no option {key!r}; {what}.")
        if option["type"] == "boolean":
            return option, _boolean(option, value)
        if not isinstance(value, str) or not value.strip():
            raise InvalidRequest(f"{option['name']} needs a value: {_describe(option)}.")
        wanted = value.strip()
        for match in (lambda c: c["value"] == wanted,
                      lambda c: c["value"].casefold() == wanted.casefold(),
                      lambda c: c["name"].casefold() == wanted.casefold()):
            found = next((c for c in option["choices"] if match(c)), None)
            if found is not None:
                return option, found["value"]
        raise InvalidRequest(f"{self.agent} offers no {option['name'].lower()} {value!r}; "
                             f"choose one of: {_describe(option)}.")

    # -- the permission policy ---------------------------------------------------------------

    def bypasses(self, option: dict, value: object) -> bool:
        return covers(option, MODE) and value in self.bypass_modes and self.policy != "allow"

    def check_policy(self, option: dict, value: object) -> None:
        if self.bypasses(option, value):
            allowed = [c["value"] for c in option["choices"] if not self.bypasses(option, c["value"])]
            raise ModeRefused(self.agent, str(value), self.policy, allowed)

    def check_early(self, key: str, value: object) -> None:
        """Before the agent is even started: a named bypass mode is refused at once."""
        if key == MODE and isinstance(value, str) and self.policy != "allow" and \
                value.casefold() in {m.casefold() for m in self.bypass_modes}:
            raise ModeRefused(self.agent, value, self.policy, [])

    # -- changes -----------------------------------------------------------------------------

    def replace(self, options: list[dict], by: str, quiet: frozenset[str] = frozenset()) -> list[Change]:
        """Take the agent's new list; the value changes of options it had before, except `quiet` ones."""
        before = {o["id"]: o["value"] for o in self.options}
        self.options = options
        return [Change(o, before[o["id"]], o["value"], by) for o in options
                if o["id"] in before and before[o["id"]] != o["value"] and o["id"] not in quiet]

    def set_value(self, option_id: str, value: object, by: str) -> Change | None:
        option = next((o for o in self.options if o["id"] == option_id), None)
        if option is None or option["value"] == value:
            return None
        previous, option["value"] = option["value"], value
        return Change(option, previous, value, by)

    def wanted(self) -> list[tuple[str, object]]:
        """What to re-apply after a resume: the user's options, at their latest values."""
        return [(o["id"], o["value"]) for o in self.options if o["id"] in self.chosen]

    def snapshot(self) -> list[dict]:
        """The options as the session JSON shows them (choices a policy refuses say so)."""
        shown = []
        for option in self.options:
            entry = {k: v for k, v in option.items() if k != "via"}
            entry["choices"] = [{**c, "allowed": not self.bypasses(option, c["value"])}
                                for c in option["choices"]]
            shown.append(entry)
        return shown


def _boolean(option: dict, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise InvalidRequest(f"{option['name']} takes true or false, not {value!r}.")
