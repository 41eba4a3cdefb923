"""The agent's own session state in words, for every text surface (CLI, magics, snapshots):
mode and model, the usage gauge, an option's choices, a config change. The side panel says the
same things (src/transcript/session-config.ts)."""

from __future__ import annotations

WHO = {"user": "you", "agent": "the agent", "resume": "glue, after the resume",
       "policy": "glue, for the permission policy"}


def tokens(count: int | None) -> str:
    """12, 950, 31k, 128k, 1.2M: a token count at a glance."""
    if count is None:
        return "?"
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.0f}k" if count >= 10_000 else f"{count / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return f"{count / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"


def money(amount: float | None, currency: str | None) -> str:
    if amount is None:
        return ""
    if (currency or "USD") == "USD":
        return f"${amount:.2f}" if amount >= 0.01 or amount == 0 else "<$0.01"
    return f"{amount:.2f} {currency}"


def gauge(session: dict) -> str:
    """"31k of 200k (16%) · $0.42", or "" when the agent reported nothing."""
    usage = session.get("usage") or {}
    parts = []
    used, size = usage.get("context_used"), usage.get("context_size")
    if used is not None and size:
        parts.append(f"{tokens(used)} of {tokens(size)} ({round(100 * used / size)}%)")
    elif usage.get("total_tokens"):
        parts.append(f"{tokens(usage['total_tokens'])} tokens")
    cost = money(usage.get("cost"), usage.get("currency"))
    if cost:
        parts.append(cost)
    return " · ".join(parts)


def setup(session: dict) -> str:
    """The mode and model, by name: "Plan · Demo Thorough", or ""."""
    names = []
    for key in ("mode", "model"):
        option = find(session, key)
        if option is not None and option["type"] == "select":
            names.append(choice_name(option, option["value"]))
    return " · ".join(names)


def find(session: dict, key: str) -> dict | None:
    """An option by id, or "mode"/"model" by category (as the engine resolves them)."""
    options = session.get("config") or []
    return next((o for o in options if o["id"] == key), None) or (
        next((o for o in options if o.get("category") == key), None) if key in ("mode", "model") else None)


def choice_name(option: dict, value) -> str:
    if option["type"] == "boolean":
        return "on" if value else "off"
    return next((c["name"] for c in option["choices"] if c["value"] == value), str(value))


def choices(session: dict, key: str) -> str:
    """The choices of one option (or of all, key None), current one marked, refused ones said."""
    options = [find(session, key)] if key else session.get("config") or []
    if not options or options[0] is None:
        what = f"no {key} option" if key else "no modes, models or options"
        return f"{session['agent']} offers {what} in this session."
    lines = []
    for option in options:
        lines.append(f"{option['name']} ({option['id']}): {choice_name(option, option['value'])}")
        if option["type"] == "boolean":
            lines.append("  true | false")
            continue
        for choice in option["choices"]:
            mark = "*" if choice["value"] == option["value"] else " "
            refused = "" if choice.get("allowed", True) else "  [refused by the permission policy]"
            about = f" — {choice['description']}" if choice.get("description") else ""
            lines.append(f" {mark} {choice['value']}{' (' + choice['name'] + ')' if choice['name'] != choice['value'] else ''}"
                         f"{about}{refused}")
    return "\n".join(lines)


def change_line(data: dict) -> str:
    """A config_change event: "Mode: Plan (was ask; by you)"."""
    who = WHO.get(data.get("by"), data.get("by") or "")
    when = ", applies when resumed" if data.get("pending") else ""
    return f"{data.get('name')}: {data.get('value_name')} (was {data.get('previous')}; by {who}{when})"
