"""Session lists for people: `jupyter glue list` and `%glue list` show the same thing as the
side panel — the same relative times, the same "needs you" marks, the same triage order."""

from __future__ import annotations

import math
import time

from . import agent_state

WORKING = frozenset({"starting", "running", "interrupting", "stopping"})
# What the panel's "Needs you" group says, in a word (session JSON `needs_you`).
NEEDS_YOU_WORDS = {"permission": "permission", "failed": "failed", "turn_done": "finished"}
HEADERS = ("state", "needs you", "id", "title", "agent", "mode · model", "context · cost", "folder", "activity")


def ago(ts: float | None, now: float | None = None) -> str:
    """Relative time in the panel's words (src/transcript/dom.ts `timeAgo`): just now, 5 min ago,
    2 h ago, yesterday, 3 days ago, then the date."""
    if not ts:
        return "-"
    d = max(0.0, (time.time() if now is None else now) - ts)

    def rounded(x: float) -> int:  # JavaScript's Math.round, not Python's banker's rounding
        return math.floor(x + 0.5)

    if d < 45:
        return "just now"
    if d < 3600:
        return f"{max(1, rounded(d / 60))} min ago"
    if d < 86400:
        return f"{rounded(d / 3600)} h ago"
    if d < 2 * 86400:
        return "yesterday"
    if d < 7 * 86400:
        return f"{rounded(d / 86400)} days ago"
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def needs_you(session: dict) -> str:
    return NEEDS_YOU_WORDS.get(session.get("needs_you") or "", "")


def triage(sessions: list[dict]) -> list[dict]:
    """Needs you first, then working, then the rest; each part by last activity."""
    def part(s: dict) -> int:
        if s.get("needs_you"):
            return 0
        return 1 if s.get("state") in WORKING else 2

    return sorted(sessions, key=lambda s: (part(s), -(s.get("updated_at") or 0)))


def rows(sessions: list[dict], now: float | None = None) -> list[tuple[str, ...]]:
    """One row per session, in HEADERS order, triaged."""
    return [
        (s["state"], needs_you(s), s["id"][:8], s.get("title") or "", s["agent"], agent_state.setup(s),
         agent_state.gauge(s), s["cwd"], ago(s.get("updated_at"), now))
        for s in triage(sessions)
    ]
