"""Translate ACP `session/update` payloads into our event vocabulary (docs/contract.md).

Our events use snake_case keys and our own kinds, so that a change of protocol version (ACP v2
moves things around) touches this module only.
"""

from __future__ import annotations

import re


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def snake_keys(value):
    if isinstance(value, dict):
        return {(_snake(k) if not k.startswith("_") else k): snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


def _content_text(content) -> str:
    if isinstance(content, dict):
        if content.get("type") == "text":
            return content.get("text", "")
        if content.get("type") == "resource_link":
            return content.get("uri", "")
    return ""


def _tool_content(items) -> list[dict]:
    """ACP tool call content → ours: text, diff, terminal."""
    out = []
    for item in items or []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "content":
            out.append({"type": "text", "text": _content_text(item.get("content"))})
        elif kind == "diff":
            out.append({"type": "diff", "path": item.get("path", ""),
                        "old_text": item.get("oldText"), "new_text": item.get("newText", "")})
        elif kind == "terminal":
            out.append({"type": "terminal", "terminal_id": item.get("terminalId", "")})
    return out


TOOL_FIELDS = ("title", "kind", "status", "locations", "rawInput", "rawOutput")


def _tool_call(update: dict, full: bool) -> dict:
    data = {"tool_call_id": update.get("toolCallId", "")}
    for key in TOOL_FIELDS:
        if key in update:
            data[_snake(key)] = snake_keys(update[key])
    if "content" in update:
        data["content"] = _tool_content(update.get("content"))
    if full:
        data.setdefault("title", "")
        data.setdefault("kind", "other")
        data.setdefault("status", "pending")
        data.setdefault("content", [])
        data.setdefault("locations", [])
    return data


def translate_update(update: dict) -> tuple[str, dict] | None:
    """(kind, data) for one ACP update, or None for updates we do not record."""
    kind = update.get("sessionUpdate")
    if kind in ("agent_message_chunk", "agent_thought_chunk", "user_message_chunk"):
        return kind, {"text": _content_text(update.get("content"))}
    if kind == "tool_call":
        return "tool_call", _tool_call(update, full=True)
    if kind == "tool_call_update":
        return "tool_call_update", _tool_call(update, full=False)
    if kind == "plan":
        return "plan", {"entries": snake_keys(update.get("entries") or [])}
    if kind == "session_info_update":
        return "session_info", snake_keys({k: v for k, v in update.items() if k != "sessionUpdate"})
    return None  # available commands, mode and config changes, usage: not transcript material


WRITING_KINDS = frozenset({"edit", "delete", "move"})


def command_of(data: dict) -> str | None:
    """The command line an execute tool call ran, from its raw input (else its title)."""
    raw = data.get("raw_input")
    if isinstance(raw, dict):
        command = raw.get("command", raw.get("cmd"))
        if isinstance(command, list) and command:
            # ["bash", "-lc", "echo hi"] is the shell running "echo hi"
            if len(command) == 3 and command[1] in ("-c", "-lc") and isinstance(command[2], str):
                return command[2]
            return " ".join(str(c) for c in command)
        if isinstance(command, str) and command:
            return command
    return data.get("title") or None


def touched_paths(data: dict, tool_kind: str | None) -> list[str]:
    """Files a tool call changed: its diffs, and the locations of editing tools.

    Reads and searches are not "touching": the list answers "what did this turn change?".
    """
    paths = [c.get("path") for c in data.get("content") or [] if c.get("type") == "diff"]
    if tool_kind in WRITING_KINDS:
        paths += [loc.get("path") for loc in data.get("locations") or [] if isinstance(loc, dict)]
    return [p for p in paths if p]


def permission_request(request_id, params: dict) -> dict:
    options = [
        {"option_id": o.get("optionId", ""), "name": o.get("name", ""), "kind": o.get("kind", "")}
        for o in params.get("options") or []
        if isinstance(o, dict)
    ]
    return {
        "request_id": str(request_id),
        "tool_call": _tool_call(params.get("toolCall") or {}, full=False),
        "options": options,
    }


def option_for(options: list[dict], decision: str) -> str | None:
    """The option id that answers `decision` ("allow" or "deny"), or None if none does.

    "Once" before "always": an "always" answer changes the agent's own rules for later calls
    (and Gemini CLI refuses one in a folder it does not trust), which nobody asked for.
    """
    prefix = "allow" if decision == "allow" else "reject"
    for kind in (f"{prefix}_once", f"{prefix}_always"):
        for option in options:
            if option.get("kind") == kind:
                return option.get("option_id")
    return next((o.get("option_id") for o in options if str(o.get("kind", "")).startswith(prefix)), None)

