"""Tokens, context and cost of one session, from what the agent reports.

Agents report two things (agents/acp_options.py): `usage_update` (context tokens used, the
context window's size, and a cost that is cumulative *per agent process*: Claude Code's adapter
starts counting again in every new process), and token counts per turn in their prompt answers.
The session's figures are: the latest context gauge, its cost summed over all of its processes,
and its tokens summed over its turns.
"""

from __future__ import annotations

TOKEN_KEYS = ("input_tokens", "output_tokens", "thought_tokens", "cached_read_tokens",
              "cached_write_tokens", "total_tokens")


class UsageMeter:
    def __init__(self, stored: dict | None = None):
        self.data: dict | None = dict(stored) if stored else None
        self._process_cost = 0.0

    def new_process(self) -> None:
        self._process_cost = 0.0

    def _figures(self) -> dict:
        if self.data is None:
            self.data = {"context_used": None, "context_size": None, "cost": None, "currency": None,
                         **{key: 0 for key in TOKEN_KEYS}}
        return self.data

    def on_update(self, update: dict) -> None:
        """A usage_update ({used, size, cost?}, see acp_options.usage_update)."""
        data = self._figures()
        if update.get("used") is not None:
            data["context_used"] = update["used"]
        if update.get("size") is not None:
            data["context_size"] = update["size"]
        cost = update.get("cost")
        if cost is not None:
            amount = cost["amount"]
            # Cumulative in this process; a smaller figure means the agent started over.
            grown = amount - self._process_cost if amount >= self._process_cost else amount
            data["cost"] = round((data["cost"] or 0.0) + grown, 6)
            data["currency"] = cost["currency"]
            self._process_cost = amount

    def on_turn(self, tokens: dict) -> None:
        data = self._figures()
        for key in TOKEN_KEYS:
            data[key] = (data.get(key) or 0) + (tokens.get(key) or 0)

    def snapshot(self) -> dict | None:
        return dict(self.data) if self.data is not None else None
