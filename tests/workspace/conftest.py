"""Fixtures for the workspace room on its own: a journal in SQLite, real repositories."""

from __future__ import annotations

import sqlite3

import pytest

from glue_jupyter.engine.workspace import Journal, Limits, Settings, Workspace
from gitrepos import make_lived_in_repo, make_repo


class Recorder:
    """What a workspace reports to its session's transcript."""

    def __init__(self):
        self.events: list[tuple[str, dict, int | None]] = []

    def __call__(self, kind, data, turn):
        self.events.append((kind, data, turn))

    def kinds(self, kind):
        return [data for k, data, _ in self.events if k == kind]


@pytest.fixture
def journal(tmp_path):
    db = sqlite3.connect(str(tmp_path / "ws.db"), isolation_level=None)
    yield Journal(db)
    db.close()


@pytest.fixture
def settings(tmp_path):
    return Settings(root=tmp_path / "glue-data" / "workspaces", worktrees_dir=tmp_path / "glue-data" / "worktrees",
                    limits=Limits(max_file_bytes=1024 * 1024, max_new_files=500))


@pytest.fixture
def make_workspace(journal, settings):
    def make(folder, session_id="s1", recorder=None, with_settings=None):
        recorder = recorder or Recorder()
        workspace = Workspace(session_id, folder, journal, with_settings or settings, recorder)
        workspace.recorder = recorder
        return workspace
    return make


@pytest.fixture
def submodule_source(tmp_path):
    return make_repo(tmp_path / "libsrc", {"lib.py": "LIB = 1\n"})


@pytest.fixture
def repo(tmp_path, submodule_source):
    return make_lived_in_repo(tmp_path / "project", submodule_source)
