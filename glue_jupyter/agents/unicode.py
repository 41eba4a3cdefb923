"""Text as UTF-8 can carry it. JSON allows a lone surrogate ("\\ud800"); UTF-8 (SQLite, the
browser's WebSocket, every file) does not, so what an agent sends is repaired on arrival."""

from __future__ import annotations

from typing import Any


def valid_text(text: str) -> str:
    """`text`, with each lone surrogate replaced by U+FFFD (the replacement character)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def valid_unicode(value: Any) -> Any:
    """Decoded JSON with `valid_text` applied to every string in it, keys included."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_text(k): valid_unicode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [valid_unicode(v) for v in value]
    return value
