"""The engine refuses what the HTTP edge refuses, for callers with no server in front (the
embedded engine behind the magics, scripts): text over its limits or not valid Unicode, and
session folders outside its root."""

from __future__ import annotations

import os

import pytest

from glue_jupyter.engine import EngineConfig, FolderNotAllowed, InvalidRequest


async def test_titles_and_prompts_have_limits_named_by_their_knob(open_manager, workdir):
    manager = await open_manager(max_title_length=10, max_prompt_length=30)
    with pytest.raises(InvalidRequest, match=r"The title is too long: 11 characters; the limit is 10 "
                                             r"\(EngineConfig\.max_title_length\)"):
        await manager.start_session("demo", str(workdir), title="t" * 11)
    with pytest.raises(InvalidRequest, match=r"EngineConfig\.max_prompt_length"):
        await manager.start_session("demo", str(workdir), prompt="p" * 31)
    assert manager.list_sessions() == []

    sid = (await manager.start_session("demo", str(workdir), title="t" * 10))["id"]
    with pytest.raises(InvalidRequest, match="31 characters; the limit is 30"):
        await manager.prompt(sid, "p" * 31)
    with pytest.raises(InvalidRequest, match="lone surrogate"):
        await manager.prompt(sid, "quick \ud800")
    assert manager.get(sid)["state"] == "idle" and manager.get(sid)["turns"] == 0


async def test_lone_surrogates_are_refused_before_anything_is_stored(manager, workdir):
    for kwargs in ({"title": "a\udfffb"}, {"prompt": "\ud800"}, {"cwd": str(workdir) + "/\ud800"}):
        with pytest.raises(InvalidRequest, match="lone surrogate"):
            await manager.start_session("demo", **{"cwd": str(workdir), **kwargs})
    assert manager.list_sessions() == []


async def test_folders_outside_the_root_are_refused(manager, workdir, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (workdir / "link").symlink_to(outside)
    for cwd in ("/", "/etc", "~", "/proc/self", str(outside), "link", ".."):
        with pytest.raises(FolderNotAllowed, match=r"Pick a folder there, or allow more with "
                                                   r"EngineConfig\.allowed_roots"):
            await manager.start_session("demo", cwd)
    assert manager.list_sessions() == []
    assert (await manager.start_session("demo", None))["cwd"] == str(workdir.resolve())  # the root


async def test_allowed_roots_and_the_default_root_is_the_current_directory(open_manager, tmp_path,
                                                                           monkeypatch):
    extra = tmp_path / "extra"
    (extra / "sub").mkdir(parents=True)
    manager = await open_manager(allowed_roots=[extra])
    assert (await manager.start_session("demo", str(extra / "sub")))["cwd"] == str((extra / "sub").resolve())

    here = tmp_path / "kernel-cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    assert EngineConfig(db_path=tmp_path / "x.db").root_dir == here  # embedded: the kernel's cwd


async def test_a_stopped_session_outside_a_narrowed_root_is_not_resumed(open_manager, workdir, tmp_path):
    (workdir / "inner").mkdir()
    manager = await open_manager()
    sid = (await manager.start_session("demo", "inner"))["id"]
    await manager.stop(sid)
    await manager.close()

    # The same database, now with a root that no longer holds the session's folder.
    narrowed = tmp_path / "narrowed"
    narrowed.mkdir()
    manager = await open_manager(root_dir=narrowed)
    with pytest.raises(FolderNotAllowed, match=os.path.basename(narrowed)):
        await manager.resume(sid)
    assert manager.get(sid)["state"] == "stopped"
