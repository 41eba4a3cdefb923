"""SQLite persistence: sessions, their append-only event logs, and a full-text index.

One database file in WAL mode. The engine calls this from its event loop: every call is a
short, synchronous transaction (events arrive batched, see events.py), which keeps the
"stored before published" order trivially true.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from ..agents.unicode import valid_text
from .private import create_private, private_files, private_folder

SCHEMA_VERSION = 2

SESSION_FIELDS = (
    "id", "title", "agent", "cwd", "state", "created_at", "updated_at", "paused_since",
    "last_seq", "exit_code", "resumed_via", "agent_session_id", "turns", "error",
    "seen_seq", "attention_seq", "notebook", "config", "config_chosen", "usage", "commands",
)
# Columns added after the first schema: (name, declaration), added to older databases on open.
ADDED_COLUMNS = (
    ("seen_seq", "INTEGER NOT NULL DEFAULT 0"),       # the user has seen the log up to here
    ("attention_seq", "INTEGER NOT NULL DEFAULT 0"),  # the last event that needs the user
    ("notebook", "TEXT"),                             # the notebook it was started from
    # The agent's options, the ids of those the user set, usage, slash commands (JSON_FIELDS).
    ("config", "TEXT"), ("config_chosen", "TEXT"), ("usage", "TEXT"), ("commands", "TEXT"),
)
# Fields held as JSON text.
JSON_FIELDS = frozenset({"config", "config_chosen", "usage", "commands"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL,
    cwd TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    paused_since REAL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    resumed_via TEXT,
    agent_session_id TEXT,
    turns INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    seen_seq INTEGER NOT NULL DEFAULT 0,
    attention_seq INTEGER NOT NULL DEFAULT 0,
    notebook TEXT,
    config TEXT,
    config_chosen TEXT,
    usage TEXT,
    commands TEXT
);
CREATE TABLE IF NOT EXISTS events (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    turn INTEGER,
    data TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(session_id UNINDEXED, source UNINDEXED, body);
-- Every agent process group alive, with what proves it ours (engine/groups): the next open
-- ends those a crash left behind. `owner_*` identify the program that started it.
CREATE TABLE IF NOT EXISTS agent_groups (
    pgid INTEGER NOT NULL,
    start_ticks INTEGER NOT NULL,
    boot_id TEXT NOT NULL,
    marker TEXT NOT NULL,
    session_id TEXT NOT NULL,
    argv TEXT NOT NULL,
    owner_pid INTEGER NOT NULL,
    owner_start_ticks INTEGER NOT NULL,
    PRIMARY KEY (pgid, start_ticks)
);
"""


def _column(field: str, value):
    if field in JSON_FIELDS and value is not None:
        return json.dumps(value)  # ASCII: a lone surrogate travels as a \u escape
    # SQLite would refuse the whole write over one lone surrogate: repaired, whoever forgot to.
    return valid_text(value) if isinstance(value, str) else value


def _value(field: str, stored):
    if field in JSON_FIELDS and stored is not None:
        try:
            return json.loads(stored)
        except ValueError:
            return None
    return stored


def _match(source: str, snippet: str) -> dict:
    """An FTS5 snippet (matches between STX and ETX) as text and highlight spans."""
    kind, _, number = source.partition(":")
    text, highlights, start = "", [], None
    for part in re.split("([\x02\x03])", snippet):
        if part == "\x02":
            start = len(text)
        elif part == "\x03":
            if start is not None:
                highlights.append([start, len(text)])
            start = None
        else:
            text += part
    n = int(number) if number.isdigit() else None
    return {"source": kind, "seq": n if kind == "user" else None, "turn": n if kind == "agent" else None,
            "text": text, "highlights": highlights}


def fts_query(text: str) -> str:
    """Turn what a user typed into an FTS5 query: every word must match, as a prefix."""
    words = re.findall(r"\w+", text, flags=re.UNICODE)
    return " ".join(f'"{w}"*' for w in words)


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        private_folder(self.path.parent, repair=False)
        # The database and its -wal and -shm (SQLite gives them the database's mode) are 0600.
        create_private(self.path)
        private_files(*self.companions())
        self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a crash of this process; only power loss can lose
        # the last transactions. That is the trade Jupyter's own stores make too.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(_SCHEMA)
        self._add_missing_columns()
        self.db.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )

    def _add_missing_columns(self) -> None:
        """A database written by an earlier version gets the columns added since, with defaults."""
        present = {row[1] for row in self.db.execute("PRAGMA table_info(sessions)")}
        for name, declaration in ADDED_COLUMNS:
            if name not in present:
                self.db.execute(f"ALTER TABLE sessions ADD COLUMN {name} {declaration}")

    def close(self) -> None:
        self.db.close()

    def companions(self) -> list[Path]:
        """The database file and the files SQLite keeps beside it."""
        return [self.path, *(self.path.with_name(self.path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]

    @contextlib.contextmanager
    def atomic(self):
        """One transaction (a savepoint, so it nests): all of the body is stored, or none of it."""
        self.db.execute("SAVEPOINT atomic")
        try:
            yield
            self.db.execute("RELEASE atomic")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK TO atomic")
                self.db.execute("RELEASE atomic")
            raise

    # sessions -------------------------------------------------------------------------

    def insert_session(self, row: dict) -> None:
        cols = ", ".join(SESSION_FIELDS)
        marks = ", ".join("?" for _ in SESSION_FIELDS)
        values = [_column(f, row.get(f, 0 if f in ("seen_seq", "attention_seq") else None))
                  for f in SESSION_FIELDS]
        self.db.execute(f"INSERT INTO sessions ({cols}) VALUES ({marks})", values)
        self._index(row["id"], "title", row["title"], replace=True)

    def update_session(self, session_id: str, **fields) -> None:
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.db.execute(f"UPDATE sessions SET {sets} WHERE id = ?",
                        [*(_column(k, v) for k, v in fields.items()), session_id])
        if "title" in fields:
            self._index(session_id, "title", fields["title"], replace=True)

    def load_sessions(self) -> list[dict]:
        cur = self.db.execute(f"SELECT {', '.join(SESSION_FIELDS)} FROM sessions")
        return [{f: _value(f, v) for f, v in zip(SESSION_FIELDS, r)} for r in cur]

    def delete_session(self, session_id: str) -> None:
        with self.atomic():
            self.db.execute("DELETE FROM events WHERE session_id = ?", (session_id,))
            self.db.execute("DELETE FROM search WHERE session_id = ?", (session_id,))
            self.db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # agent process groups -------------------------------------------------------------

    GROUP_FIELDS = ("pgid", "start_ticks", "boot_id", "marker", "session_id", "argv", "owner_pid",
                    "owner_start_ticks")

    def add_group(self, row: dict) -> None:
        marks = ", ".join("?" for _ in self.GROUP_FIELDS)
        self.db.execute(f"INSERT OR REPLACE INTO agent_groups ({', '.join(self.GROUP_FIELDS)}) VALUES ({marks})",
                        [row[f] for f in self.GROUP_FIELDS])

    def remove_group(self, pgid: int, start_ticks: int) -> None:
        self.db.execute("DELETE FROM agent_groups WHERE pgid = ? AND start_ticks = ?", (pgid, start_ticks))

    def groups(self) -> list[dict]:
        cur = self.db.execute(f"SELECT {', '.join(self.GROUP_FIELDS)} FROM agent_groups")
        return [dict(zip(self.GROUP_FIELDS, r)) for r in cur]

    # events ---------------------------------------------------------------------------

    def append_events(self, session_id: str, events: list[dict], activity: float | None = None,
                      fields: dict | None = None, index: Iterable[tuple[str, str]] = ()) -> None:
        """Store, in one transaction, a batch of events (with the session's new last_seq), changed
        session `fields`, and (source, text) entries of the search index: all, or nothing."""
        with self.atomic():
            if events:
                self.db.executemany(
                    "INSERT INTO events (session_id, seq, ts, kind, turn, data) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (session_id, e["seq"], e["ts"], e["kind"], e["turn"], json.dumps(e["data"]))
                        for e in events
                    ],
                )
                self.db.execute(
                    "UPDATE sessions SET last_seq = ?, updated_at = ? WHERE id = ?",
                    (events[-1]["seq"], events[-1]["ts"] if activity is None else activity, session_id),
                )
            if fields:
                self.update_session(session_id, **fields)
            for source, text in index:
                self._index(session_id, source, text)

    def _select_events(self, columns: str, session_id: str, after_seq: int, limit: int | None,
                       upto_seq: int | None = None):
        """Rows of `columns` for the events in (after_seq, upto_seq], oldest first."""
        sql = f"SELECT {columns} FROM events WHERE session_id = ? AND seq > ?"
        args: list = [session_id, after_seq]
        if upto_seq is not None:
            sql += " AND seq <= ?"
            args.append(upto_seq)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return self.db.execute(sql, args)

    def events(self, session_id: str, after_seq: int = 0, limit: int | None = None,
               upto_seq: int | None = None) -> list[dict]:
        return [
            {"seq": seq, "session_id": session_id, "ts": ts, "kind": kind, "turn": turn,
             "data": json.loads(data)}
            for seq, ts, kind, turn, data in self._select_events(
                "seq, ts, kind, turn, data", session_id, after_seq, limit, upto_seq)
        ]

    def events_json(self, session_id: str, after_seq: int = 0, limit: int | None = None) -> list[str]:
        """The same events as `events`, each already serialised (by SQLite, without a decode
        and re-encode in Python: about 2.5x faster for long transcripts)."""
        columns = ("json_object('seq', seq, 'session_id', session_id, 'ts', ts, 'kind', kind, "
                   "'turn', turn, 'data', json(data))")
        return [row[0] for row in self._select_events(columns, session_id, after_seq, limit)]

    def max_seq(self, session_id: str) -> int:
        row = self.db.execute("SELECT MAX(seq) FROM events WHERE session_id = ?", (session_id,)).fetchone()
        return row[0] or 0

    # search ---------------------------------------------------------------------------

    def index_text(self, session_id: str, source: str, text: str) -> None:
        self._index(session_id, source, text)

    def _index(self, session_id: str, source: str, text: str, replace: bool = False) -> None:
        if replace:
            self.db.execute("DELETE FROM search WHERE session_id = ? AND source = ?", (session_id, source))
        if text:
            self.db.execute(
                "INSERT INTO search (session_id, source, body) VALUES (?, ?, ?)",
                (session_id, source, valid_text(text)),
            )

    def search(self, text: str) -> dict[str, dict]:
        """Sessions matching `text`, each with its best match: where it is and a snippet.

        `{session_id: {"source": "user"|"agent"|"title", "seq", "turn", "text", "highlights"}}`:
        a user message is found by its event `seq`, an agent reply by its `turn`; `text` is a
        short excerpt and `highlights` the [start, end) spans of the matched words in it. A match
        in the transcript is preferred to one in the title (the title is shown anyway).
        """
        query = fts_query(text)
        if not query:
            return {}
        cur = self.db.execute(
            "SELECT session_id, source, snippet(search, 2, char(2), char(3), '…', 12) FROM search "
            "WHERE search MATCH ? ORDER BY source = 'title', rank", (query,))
        found: dict[str, dict] = {}
        for session_id, source, snippet in cur:
            if session_id not in found:
                found[session_id] = _match(source, snippet)
        return found

    def transcript_rows(self, session_id: str, kinds: Iterable[str]) -> list[dict]:
        kinds = list(kinds)
        marks = ", ".join("?" for _ in kinds)
        cur = self.db.execute(
            f"SELECT seq, kind, turn, data FROM events WHERE session_id = ? AND kind IN ({marks}) ORDER BY seq",
            [session_id, *kinds],
        )
        return [{"seq": s, "kind": k, "turn": t, "data": json.loads(d)} for s, k, t, d in cur]
