"""The workspace's own two tables in the engine's SQLite database.

`workspaces`: per session, what the Workspace must remember across restarts (where its
checkpoints live, its worktree, its fork links, the files each snapshot left out).
`workspace_ops`: the journal of operations that change files (rewind, merge): written before
anything is touched, marked done after; what is still `applying` at start is finished or
rolled back (see Workspace.recover).
"""

from __future__ import annotations

import json
import sqlite3
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (session_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workspace_ops (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


class Journal:
    def __init__(self, db: sqlite3.Connection):
        self.db = db
        db.executescript(SCHEMA)

    # per-session data -----------------------------------------------------------------

    def load(self, session_id: str) -> dict | None:
        row = self.db.execute("SELECT data FROM workspaces WHERE session_id = ?", (session_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def save(self, session_id: str, data: dict) -> None:
        self.db.execute("INSERT INTO workspaces (session_id, data) VALUES (?, ?) "
                        "ON CONFLICT(session_id) DO UPDATE SET data = excluded.data",
                        (session_id, json.dumps(data)))

    def forget(self, session_id: str) -> None:
        self.db.execute("DELETE FROM workspaces WHERE session_id = ?", (session_id,))
        self.db.execute("DELETE FROM workspace_ops WHERE session_id = ?", (session_id,))

    # operations -----------------------------------------------------------------------

    def begin(self, session_id: str, kind: str, data: dict) -> int:
        cur = self.db.execute(
            "INSERT INTO workspace_ops (session_id, kind, data, state, created_at) VALUES (?, ?, ?, 'applying', ?)",
            (session_id, kind, json.dumps(data), time.time()))
        return cur.lastrowid

    def finish(self, op_id: int, state: str = "done") -> None:
        self.db.execute("UPDATE workspace_ops SET state = ? WHERE id = ?", (state, op_id))

    def unfinished(self) -> list[dict]:
        rows = self.db.execute(
            "SELECT id, session_id, kind, data FROM workspace_ops WHERE state = 'applying' ORDER BY id")
        return [{"id": i, "session_id": s, "kind": k, "data": json.loads(d)} for i, s, k, d in rows]
