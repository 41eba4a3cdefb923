"""Seeding: the prior transcript as text for a fresh agent session that cannot load the old one."""

from __future__ import annotations

from .store import Store

SEED_CHAR_LIMIT = 100_000
SEED_HEADER = "[glue_jupyter: earlier transcript]"
SEED_FOOTER = "[end of earlier transcript]"


def build_seed(store: Store, session_id: str, limit: int = SEED_CHAR_LIMIT) -> tuple[str, int]:
    """(seed text, number of messages in it). Keeps the most recent messages within `limit`."""
    messages: list[str] = []
    current_turn, agent_parts = None, []

    def flush_agent():
        if agent_parts:
            messages.append("Agent: " + "".join(agent_parts).strip())
            agent_parts.clear()

    for row in store.transcript_rows(session_id, ("user_message", "agent_message_chunk")):
        if row["kind"] == "user_message":
            flush_agent()
            messages.append("User: " + row["data"].get("text", ""))
        else:
            if row["turn"] != current_turn:
                flush_agent()
            agent_parts.append(row["data"].get("text", ""))
        current_turn = row["turn"]
    flush_agent()
    kept, size = [], 0
    for message in reversed(messages):
        if size + len(message) > limit:
            break
        kept.append(message)
        size += len(message) + 1
    kept.reverse()
    return "\n".join([SEED_HEADER, *kept, SEED_FOOTER]), len(kept)
