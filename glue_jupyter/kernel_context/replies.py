"""Code blocks of the agent's last reply, for ``%glue insert`` (the kernel's way back into
a cell: IPython's ``set_next_input`` makes the front end open a new cell below, pre-filled)."""

from __future__ import annotations

import re

FENCE = re.compile(r"^(?P<fence>```+|~~~+)[ \t]*(?P<lang>[\w+-]*)[^\n]*\n(?P<code>.*?)^(?P=fence)[ \t]*$",
                   re.MULTILINE | re.DOTALL)


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """(language, code) of every fenced code block, in order."""
    return [(m.group("lang").lower(), m.group("code").rstrip("\n")) for m in FENCE.finditer(markdown)]


def last_reply(events: list[dict]) -> str:
    """The agent's message text of the last turn that has one."""
    turns: dict[int, list[str]] = {}
    for event in events:
        if event["kind"] == "agent_message_chunk" and event.get("turn") is not None:
            turns.setdefault(event["turn"], []).append(event["data"].get("text", ""))
    return "".join(turns[max(turns)]) if turns else ""
