"""Accept a unique prefix of a session id wherever an id is typed (like git and docker)."""

from __future__ import annotations

from .errors import ServerError

FULL_ID_LEN = 32  # uuid4 hex


def resolve_id(client, ref: str) -> str:
    ref = ref.strip()
    if len(ref) >= FULL_ID_LEN:
        return ref
    matches = [s["id"] for s in client.list_sessions() if s["id"].startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ServerError(f"no session with id {ref!r}", 404)
    raise ServerError(f"{ref!r} matches {len(matches)} sessions; type more of the id", 400)
