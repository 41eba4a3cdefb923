"""The SQLite store opens databases written by earlier versions and keeps what they hold."""

from __future__ import annotations

import sqlite3

from glue_jupyter.engine.store import SCHEMA_VERSION, Store

FIRST_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT NOT NULL DEFAULT '', agent TEXT NOT NULL,
    cwd TEXT NOT NULL, state TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    paused_since REAL, last_seq INTEGER NOT NULL DEFAULT 0, exit_code INTEGER, resumed_via TEXT,
    agent_session_id TEXT, turns INTEGER NOT NULL DEFAULT 0, error TEXT);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO sessions (id, title, agent, cwd, state, created_at, updated_at, last_seq, turns)
    VALUES ('old', 'From version 1', 'demo', '/', 'stopped', 1.0, 2.0, 7, 1);
"""


def test_a_version_1_database_gains_the_attention_columns(tmp_path):
    path = tmp_path / "sessions.db"
    db = sqlite3.connect(path)
    db.executescript(FIRST_SCHEMA)
    db.close()

    store = Store(path)
    [row] = store.load_sessions()
    assert row["title"] == "From version 1" and row["last_seq"] == 7
    assert row["seen_seq"] == 0 and row["attention_seq"] == 0
    store.update_session("old", seen_seq=7)
    assert store.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    store.close()
    assert Store(path).load_sessions()[0]["seen_seq"] == 7  # and opening again changes nothing
