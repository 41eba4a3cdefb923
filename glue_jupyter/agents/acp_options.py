"""Translate what an agent reports about its own session — modes, models, config options,
usage, slash commands — from ACP's JSON into our shapes (docs/contract.md, "Session").

Agents offer choices three ways, and a user should not have to know which: ACP session config
options (`configOptions`, set with `session/set_config_option`; Claude Code's and Codex's
adapters), session modes (`modes`, `session/set_mode`) and the older model list (`models`,
`session/set_model`; Gemini CLI). All three become one list of options:

    {"id", "name", "description", "category", "type": "select"|"boolean", "value",
     "choices": [{"value", "name", "description", "group"}], "via": "config"|"mode"|"model"}

`via` says which request sets the option. A config option of category "mode" (or "model")
supersedes the mode list (model list) that the same agent may also send.
"""

from __future__ import annotations

from typing import Any

MODE, MODEL = "mode", "model"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _choice(raw: Any, group: str | None = None) -> dict | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("value"), str):
        return None
    choice = {"value": raw["value"], "name": _text(raw.get("name")) or raw["value"],
              "description": _text(raw.get("description"))}
    if group:
        choice["group"] = group
    return choice


def _config_option(raw: Any) -> dict | None:
    if not isinstance(raw, dict) or not _text(raw.get("id")):
        return None
    kind = raw.get("type")
    category = raw.get("category")
    option = {"id": raw["id"], "name": _text(raw.get("name")) or raw["id"],
              "description": _text(raw.get("description")),
              "category": category if isinstance(category, str) else None, "via": "config"}
    if kind == "boolean" and isinstance(raw.get("currentValue"), bool):
        return {**option, "type": "boolean", "value": raw["currentValue"], "choices": []}
    if kind != "select" or not isinstance(raw.get("currentValue"), str):
        return None
    choices = []
    for entry in raw.get("options") or []:
        if isinstance(entry, dict) and isinstance(entry.get("options"), list):  # a group
            group = _text(entry.get("name")) or _text(entry.get("group"))
            choices += [c for c in (_choice(e, group) for e in entry["options"]) if c]
        elif (choice := _choice(entry)) is not None:
            choices.append(choice)
    return {**option, "type": "select", "value": raw["currentValue"], "choices": choices}


def _legacy_option(raw: Any, kind: str) -> dict | None:
    """The `modes` or `models` object as a select option set through set_mode / set_model."""
    if not isinstance(raw, dict):
        return None
    current_key, list_key, id_key = (
        ("currentModeId", "availableModes", "id") if kind == MODE
        else ("currentModelId", "availableModels", "modelId"))
    current = raw.get(current_key)
    if not isinstance(current, str):
        return None
    choices = [{"value": entry[id_key], "name": _text(entry.get("name")) or entry[id_key],
                "description": _text(entry.get("description"))}
               for entry in raw.get(list_key) or []
               if isinstance(entry, dict) and isinstance(entry.get(id_key), str)]
    return {"id": kind, "name": "Mode" if kind == MODE else "Model", "description": None,
            "category": kind, "type": "select", "value": current, "choices": choices, "via": kind}


def covers(option: dict, kind: str) -> bool:
    """Whether an option is the agent's mode (or model) choice."""
    return option.get("category") == kind or option.get("id") == kind


def options_from_session(result: Any, previous: list[dict] | None = None) -> list[dict]:
    """The options in a session/new, load or resume answer (also config_option_update's list).

    `previous` supplies legacy mode/model options the answer does not mention again.
    """
    result = result if isinstance(result, dict) else {}
    options = [o for o in (_config_option(raw) for raw in result.get("configOptions") or []) if o]
    for kind, key in ((MODE, "modes"), (MODEL, "models")):
        if any(covers(o, kind) for o in options):
            continue
        legacy = _legacy_option(result.get(key), kind)
        if legacy is None and previous:
            legacy = next((o for o in previous if o.get("via") == kind), None)
        if legacy is not None:
            options.append(legacy)
    return options


def find(options: list[dict], key: str) -> dict | None:
    """The option named `key`: by id first, then "mode"/"model" by category."""
    exact = next((o for o in options if o["id"] == key), None)
    if exact is not None:
        return exact
    if key in (MODE, MODEL):
        return next((o for o in options if o.get("category") == key), None)
    return None


def current(options: list[dict], kind: str) -> str | None:
    option = find(options, kind)
    return option["value"] if option is not None and option["type"] == "select" else None


def usage_update(update: dict) -> dict:
    """ACP usage_update → {used, size, cost?}; cost is cumulative, as the agent counts it."""
    data = {"used": _count(update.get("used")), "size": _count(update.get("size"))}
    cost = update.get("cost")
    if isinstance(cost, dict) and isinstance(cost.get("amount"), (int, float)):
        data["cost"] = {"amount": float(cost["amount"]), "currency": _text(cost.get("currency")) or "USD"}
    return data


TOKEN_FIELDS = {
    "inputTokens": "input_tokens", "outputTokens": "output_tokens", "thoughtTokens": "thought_tokens",
    "cachedReadTokens": "cached_read_tokens", "cachedWriteTokens": "cached_write_tokens",
    "totalTokens": "total_tokens",
}


def turn_usage(usage: Any, meta: Any = None) -> dict | None:
    """Token counts of one turn from a prompt answer: ACP's `usage`, else Gemini CLI's
    `_meta.quota.token_count`. None when the agent reported none."""
    if isinstance(usage, dict):
        counts = {ours: _count(usage.get(theirs)) for theirs, ours in TOKEN_FIELDS.items()
                  if isinstance(usage.get(theirs), int)}
        if counts:
            return counts
    quota = meta.get("quota") if isinstance(meta, dict) else None
    tokens = quota.get("token_count") if isinstance(quota, dict) else None
    if isinstance(tokens, dict):
        counts = {key: _count(tokens.get(key)) for key in ("input_tokens", "output_tokens")
                  if isinstance(tokens.get(key), int)}
        if counts:
            counts["total_tokens"] = sum(counts.values())
            return counts
    return None


def commands(update: dict) -> list[dict]:
    """ACP available_commands_update → [{name, description, hint}]."""
    found = []
    for raw in update.get("availableCommands") or []:
        if not isinstance(raw, dict) or not _text(raw.get("name")):
            continue
        entry = raw.get("input")
        hint = _text(entry.get("hint")) if isinstance(entry, dict) else None
        found.append({"name": raw["name"].lstrip("/"), "description": _text(raw.get("description")) or "",
                      "hint": hint})
    return found


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
