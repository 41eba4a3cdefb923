"""Sessions record the notebook they were started from; lists filter by it; a database from
before the column existed gains it on open."""

from __future__ import annotations

import sqlite3

import pytest

from glue_jupyter.engine import InvalidRequest, SessionManager


async def test_a_session_records_its_notebook_and_lists_filter_by_it(manager, workdir):
    mine = await manager.start_session("demo", str(workdir), notebook="analysis/sales.ipynb")
    other = await manager.start_session("demo", str(workdir), notebook=str(workdir / "other.ipynb"))
    plain = await manager.start_session("demo", str(workdir))
    assert mine["notebook"] == str(workdir / "analysis" / "sales.ipynb")  # relative to root_dir
    assert plain["notebook"] is None
    for query, expected in [("analysis/sales.ipynb", [mine]), (str(workdir / "other.ipynb"), [other]),
                            (str(workdir / "analysis" / ".." / "other.ipynb"), [other]), ("nope.ipynb", [])]:
        assert [s["id"] for s in manager.list_sessions(notebook=query)] == [s["id"] for s in expected]
    with pytest.raises(InvalidRequest, match="notebook must be a non-empty path"):
        await manager.start_session("demo", str(workdir), notebook=" ")


async def test_an_older_database_gains_the_column(make_config, tmp_path):
    config = make_config()
    db = sqlite3.connect(config.db_path)
    db.executescript("""CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT NOT NULL DEFAULT '',
        agent TEXT NOT NULL, cwd TEXT NOT NULL, state TEXT NOT NULL, created_at REAL NOT NULL,
        updated_at REAL NOT NULL, paused_since REAL, last_seq INTEGER NOT NULL DEFAULT 0, exit_code INTEGER,
        resumed_via TEXT, agent_session_id TEXT, turns INTEGER NOT NULL DEFAULT 0, error TEXT);
        INSERT INTO sessions (id, agent, cwd, state, created_at, updated_at) VALUES ('old', 'demo', '/', 'stopped', 1, 1);""")
    db.close()
    manager = SessionManager(config)
    await manager.open()
    try:
        assert manager.get("old")["notebook"] is None and manager.get("old")["state"] == "stopped"
    finally:
        await manager.close()
