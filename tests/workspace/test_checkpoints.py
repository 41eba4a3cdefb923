"""Checkpoints, changes and rewind of the workspace room, on real git repositories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from glue_jupyter.engine.workspace import NoCheckpoint, WorkspaceError
from glue_jupyter.engine.workspace import rewind as rewind_module
from gitrepos import git, make_repo, tree_of, user_state


def by_path(changes):
    return {c["path"]: c for c in changes["changes"]}


def agent_edits(repo: Path) -> None:
    """What an agent's turn does: edit, create, delete, rename, chmod, binary, symlink."""
    (repo / "src/app.py").write_text("def main():\n    return 3\n\n\ndef extra():\n    pass\n")
    (repo / "src/new_module.py").write_text("NEW = True\n")
    (repo / "data/table.csv").unlink()
    (repo / "run.sh").rename(repo / "scripts.sh")
    (repo / "notes.txt").chmod(0o755)
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0binary")
    os.symlink("src/app.py", repo / "app-link.py")
    (repo / "debug.log").write_text("ignored, changed\n")
    (repo / "vendor/lib/lib.py").write_text("LIB = 2  # inside the submodule\n")


async def test_a_checkpoint_leaves_branch_index_stash_and_files_untouched(repo, make_workspace):
    before = user_state(repo)
    files_before = tree_of(repo)
    workspace = make_workspace(repo)
    await workspace.before_turn(1)
    await workspace.after_turn(1)
    assert user_state(repo) == before
    assert tree_of(repo) == files_before
    refs = git(repo, "for-each-ref", "--format=%(refname)", "refs/glue/")
    assert refs.split() == ["refs/glue/s1/turn-1-after", "refs/glue/s1/turn-1-before"]
    # The checkpoint holds the work in progress: staged, unstaged and untracked; not ignored files.
    listed = git(repo, "ls-tree", "-r", "--name-only", "refs/glue/s1/turn-1-before").split()
    assert {"README.md", "src/app.py", "notes.txt", "run.sh", "vendor/lib"} <= set(listed)
    assert "debug.log" not in listed and "build/out.bin" not in listed
    assert git(repo, "show", "refs/glue/s1/turn-1-before:src/app.py") == "def main():\n    return 2\n"
    assert git(repo, "show", "refs/glue/s1/turn-1-before:README.md") == "# project\n\nstaged line\n"


async def test_changes_of_a_turn_name_every_kind_of_change(repo, make_workspace):
    workspace = make_workspace(repo)
    await workspace.before_turn(1)
    agent_edits(repo)
    live = await workspace.changes(1)
    assert live["live"] is True
    await workspace.after_turn(1)
    changes = await workspace.changes(1)
    assert changes["live"] is False
    files = by_path(changes)
    assert set(files) == {"src/app.py", "src/new_module.py", "data/table.csv", "scripts.sh", "notes.txt",
                          "logo.png", "app-link.py"}
    assert files["src/app.py"]["status"] == "modified"
    assert (files["src/app.py"]["added"], files["src/app.py"]["removed"]) == (5, 1)
    assert "+def extra():" in files["src/app.py"]["diff"]
    assert files["src/new_module.py"]["status"] == "added"
    assert files["data/table.csv"]["status"] == "deleted"
    assert files["scripts.sh"]["status"] == "renamed" and files["scripts.sh"]["old_path"] == "run.sh"
    assert (files["notes.txt"]["old_mode"], files["notes.txt"]["new_mode"]) == ("100644", "100755")
    assert files["logo.png"]["binary"] is True and files["logo.png"]["diff"] is None
    assert files["app-link.py"]["new_mode"] == "120000"
    assert "ignored by .gitignore" in changes["note"]
    assert changes["files"] == 7 and changes["added"] >= 7
    # The summary recorded in the transcript agrees, without diffs.
    [summary] = workspace.recorder.kinds("turn_changes")
    assert summary["files"] == 7 and "diff" not in summary["changes"][0]


async def test_rewind_restores_content_deletions_new_files_and_modes_and_can_be_undone(repo, make_workspace):
    workspace = make_workspace(repo)
    await workspace.before_turn(1)
    start = tree_of(repo)
    state = user_state(repo)
    agent_edits(repo)
    await workspace.after_turn(1)
    after_turn = tree_of(repo)

    preview = await workspace.rewind_preview("turn-1-before")
    assert {c["path"] for c in preview["changes"]} == {
        "src/app.py", "src/new_module.py", "data/table.csv", "scripts.sh", "run.sh", "notes.txt",
        "logo.png", "app-link.py"}
    assert tree_of(repo) == after_turn  # a preview touches nothing

    result = await workspace.rewind("turn-1-before")
    expected = {**start, "debug.log": after_turn["debug.log"],   # ignored: left alone
                "vendor/lib/lib.py": after_turn["vendor/lib/lib.py"]}  # submodule: left alone
    assert tree_of(repo, skip=(".git",)) == {k: v for k, v in expected.items()}
    assert not (repo / "src/new_module.py").exists() and not (repo / "app-link.py").exists()
    assert os.access(repo / "run.sh", os.X_OK) and not os.access(repo / "notes.txt", os.X_OK)
    assert result["undo"] == "rewind-1"
    assert user_state(repo)["HEAD"] == state["HEAD"] and user_state(repo)["index"] == state["index"]
    assert user_state(repo)["stash"] == state["stash"]
    [recorded] = workspace.recorder.kinds("rewind")
    assert recorded["to"] == "turn-1-before" and recorded["files"] == 8

    await workspace.rewind("rewind-1")   # undo the rewind
    assert tree_of(repo) == after_turn


async def test_a_session_in_a_subfolder_sees_and_rewinds_only_that_folder(repo, make_workspace):
    workspace = make_workspace(repo / "src")
    await workspace.before_turn(1)
    (repo / "src/app.py").write_text("changed\n")
    (repo / "README.md").write_text("changed outside the session's folder\n")
    await workspace.after_turn(1)
    assert set(by_path(await workspace.changes(1))) == {"src/app.py"}
    await workspace.rewind("turn-1-before")
    assert (repo / "src/app.py").read_text() == "def main():\n    return 2\n"
    assert (repo / "README.md").read_text() == "changed outside the session's folder\n"


async def test_outside_git_a_shadow_repository_keeps_the_checkpoints(tmp_path, make_workspace, settings):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "a.txt").write_text("one\n")
    (folder / ".gitignore").write_text("*.tmp\n")
    (folder / "x.tmp").write_text("ignored\n")
    workspace = make_workspace(folder)
    await workspace.before_turn(1)
    (folder / "a.txt").write_text("two\n")
    (folder / "b.txt").write_text("new\n")
    await workspace.after_turn(1)
    changes = await workspace.changes(1)
    assert changes["kind"] == "folder"
    assert set(by_path(changes)) == {"a.txt", "b.txt"}
    assert not (folder / ".git").exists()   # nothing of ours in the user's folder
    await workspace.rewind("turn-1-before")
    assert (folder / "a.txt").read_text() == "one\n" and not (folder / "b.txt").exists()
    assert workspace.describe()["checkpoints"] == "folder"
    shadows = list(settings.shadow_root.iterdir())
    assert len(shadows) == 1
    await workspace.forget()
    assert not settings.shadow_root.exists() or not list(settings.shadow_root.iterdir())


async def test_outside_git_a_folder_too_large_says_so_once_and_turns_go_on(tmp_path, make_workspace):
    folder = tmp_path / "huge"
    folder.mkdir()
    for i in range(501):
        (folder / f"f{i}.txt").write_text(str(i))
    workspace = make_workspace(folder)
    await workspace.before_turn(1)
    await workspace.after_turn(1)
    await workspace.before_turn(2)
    [notice] = workspace.recorder.kinds("notice")
    assert "more than 500 files" in notice["text"] and "git init" in notice["text"]
    assert workspace.describe()["checkpoints"] is None
    with pytest.raises(NoCheckpoint, match="more than 500 files"):
        await workspace.changes(1)


async def test_files_over_the_size_limit_are_left_out_and_named(repo, make_workspace):
    workspace = make_workspace(repo)
    await workspace.before_turn(1)
    (repo / "big.bin").write_bytes(b"x" * (1024 * 1024 + 1))
    (repo / "small.txt").write_text("small\n")
    await workspace.after_turn(1)
    changes = await workspace.changes(1)
    assert set(by_path(changes)) == {"small.txt"}
    assert changes["skipped"] == ["big.bin"]
    assert any("big.bin" in n["text"] for n in workspace.recorder.kinds("notice"))
    objects = git(repo, "count-objects", "-v")
    assert int(dict(line.split(": ") for line in objects.splitlines())["size"]) < 1024  # KiB: not in git
    await workspace.rewind("turn-1-before")
    assert (repo / "big.bin").exists() and not (repo / "small.txt").exists()


async def test_a_rewind_interrupted_by_a_crash_is_finished_on_restart(repo, make_workspace, monkeypatch):
    workspace = make_workspace(repo)
    await workspace.before_turn(1)
    start = tree_of(repo)
    for i in range(20):
        (repo / f"gen{i}.txt").write_text(f"{i}\n")
    (repo / "src/app.py").write_text("rewritten\n")
    await workspace.after_turn(1)

    real_apply = rewind_module.apply

    def crash_halfway(root, steps, blobs):
        real_apply(root, steps[: len(steps) // 2], blobs)
        raise SystemExit("the server was killed")   # not an Exception: nothing of ours runs after it

    monkeypatch.setattr(rewind_module, "apply", crash_halfway)
    with pytest.raises(SystemExit):
        await workspace.rewind("turn-1-before")
    monkeypatch.setattr(rewind_module, "apply", real_apply)
    assert tree_of(repo) != start   # half rewound, as a crash would leave it
    [op] = workspace.journal.unfinished()

    restarted = make_workspace(repo)   # a new server process
    await restarted.recover(op)
    assert tree_of(repo) == start
    assert workspace.journal.unfinished() == []
    assert "finished on restart" in restarted.recorder.kinds("notice")[0]["text"]


async def test_a_rewind_that_cannot_be_finished_is_rolled_back(repo, make_workspace, monkeypatch):
    workspace = make_workspace(repo)
    await workspace.before_turn(1)
    (repo / "src/app.py").write_text("turn one\n")
    (repo / "added.txt").write_text("added\n")
    await workspace.after_turn(1)
    after_turn = tree_of(repo)
    real_apply = rewind_module.apply
    calls = []

    def fail_first(root, steps, blobs):
        calls.append(len(steps))
        if len(calls) == 1:
            real_apply(root, steps[:1], blobs)
            raise PermissionError("read-only file system")
        real_apply(root, steps, blobs)

    monkeypatch.setattr(rewind_module, "apply", fail_first)
    with pytest.raises(WorkspaceError, match="put back as it was"):
        await workspace.rewind("turn-1-before")
    assert tree_of(repo) == after_turn
    assert workspace.journal.unfinished() == []


async def test_unknown_checkpoints_are_refused_clearly(repo, make_workspace):
    workspace = make_workspace(repo)
    with pytest.raises(NoCheckpoint, match="Turn 4 has no checkpoint"):
        await workspace.changes(4)
    with pytest.raises(NoCheckpoint, match="no checkpoint 'before turn 9'"):
        await workspace.rewind("turn-9-before")
    with pytest.raises(WorkspaceError, match="not a checkpoint name"):
        await workspace.rewind("../../heads/main")


async def test_forget_deletes_every_checkpoint_ref_and_the_private_index(repo, make_workspace, settings):
    workspace = make_workspace(repo)
    await workspace.before_turn(1)
    (repo / "x.txt").write_text("x\n")
    await workspace.after_turn(1)
    other = make_workspace(repo, session_id="s2")
    await other.before_turn(1)
    assert (settings.root / "s1" / "index").exists()
    state = user_state(repo)
    summary = await workspace.forget()
    assert "2 checkpoint(s) deleted" in summary
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/glue/").split() == ["refs/glue/s2/turn-1-before"]
    assert not (settings.root / "s1").exists()
    assert user_state(repo) == state
    # The private indexes are split. Both began from the user's index, so they share one shared
    # file (named by its content): it stays while s2 uses it, and goes with the last of them.
    assert shared_indexes(repo) == [shared_index_of(repo, settings.root / "s2" / "index")]
    await other.forget()
    assert shared_indexes(repo) == []
    assert user_state(repo) == state


def shared_indexes(repo: Path) -> list[str]:
    return sorted(p.name for p in (repo / ".git").glob("sharedindex.*"))


def shared_index_of(repo: Path, index: Path) -> str:
    return Path(git(repo, "rev-parse", "--shared-index-path", env={"GIT_INDEX_FILE": str(index)}).strip()).name


async def test_a_private_index_git_cannot_read_is_built_again(repo, make_workspace, settings):
    workspace = make_workspace(repo)
    await workspace.before_turn(1)
    # Its shared file is gone (as after a gc of shared indexes unused for two weeks).
    for name in shared_indexes(repo):
        (repo / ".git" / name).unlink()
    (repo / "x.txt").write_text("x\n")
    await workspace.after_turn(1)
    assert set(by_path(await workspace.changes(1))) == {"x.txt"}
    assert not workspace.recorder.kinds("notice")


async def test_forget_leaves_the_users_own_split_index_alone(repo, make_workspace):
    git(repo, "update-index", "--split-index")  # the user's index is split: ours begins as a copy
    users = shared_indexes(repo)
    assert users
    workspace = make_workspace(repo)
    await workspace.before_turn(1)
    (repo / "x.txt").write_text("x\n")
    await workspace.after_turn(1)
    state = user_state(repo)
    await workspace.forget()
    assert set(users) <= set(shared_indexes(repo))
    assert user_state(repo) == state


async def test_two_sessions_in_one_repository_keep_their_own_checkpoints(repo, make_workspace):
    first, second = make_workspace(repo, "s1"), make_workspace(repo, "s2")
    await first.before_turn(1)
    (repo / "one.txt").write_text("1\n")
    await second.before_turn(1)
    (repo / "two.txt").write_text("2\n")
    await first.after_turn(1)
    await second.after_turn(1)
    assert set(by_path(await first.changes(1))) == {"one.txt", "two.txt"}
    assert set(by_path(await second.changes(1))) == {"two.txt"}


async def test_a_repository_without_commits_is_checkpointed_too(tmp_path, make_workspace):
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a.txt").write_text("a\n")
    workspace = make_workspace(repo)
    await workspace.before_turn(1)
    (repo / "a.txt").write_text("b\n")
    await workspace.after_turn(1)
    assert set(by_path(await workspace.changes(1))) == {"a.txt"}
    await workspace.rewind("turn-1-before")
    assert (repo / "a.txt").read_text() == "a\n"
    assert git(repo, "status", "--porcelain") == "?? a.txt\n"


async def test_a_repository_in_the_middle_of_a_merge_conflict(tmp_path, make_workspace):
    repo = make_repo(tmp_path / "conflicted", {"f.txt": "a\n"})
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "f.txt").write_text("other\n")
    git(repo, "commit", "-qam", "other")
    git(repo, "checkout", "-q", "main")
    (repo / "f.txt").write_text("mine\n")
    git(repo, "commit", "-qam", "mine")
    git(repo, "merge", "other", check=False)
    state = user_state(repo)
    workspace = make_workspace(repo)
    await workspace.before_turn(1)
    assert user_state(repo) == state
    assert "<<<<<<<" in git(repo, "show", "refs/glue/s1/turn-1-before:f.txt")


async def test_glues_own_data_inside_the_folder_is_never_snapshotted(tmp_path, make_workspace):
    """A server started in the project keeps its database and checkpoints there: a snapshot
    of the folder must not take in the snapshots themselves."""
    from glue_jupyter.engine.workspace import Limits, Settings

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "a.txt").write_text("a\n")
    data = folder / "glue-data"
    data.mkdir()
    (data / "sessions.db").write_bytes(b"\0database")
    settings = Settings(root=data / "workspaces", worktrees_dir=data / "worktrees",
                        limits=Limits(max_new_files=50), private=[data])
    workspace = make_workspace(folder, with_settings=settings)
    await workspace.before_turn(1)
    (folder / "a.txt").write_text("b\n")
    (data / "sessions.db").write_bytes(b"\0changed")
    await workspace.after_turn(1)
    changes = await workspace.changes(1)
    assert [c["path"] for c in changes["changes"]] == ["a.txt"]
    shadow = next(settings.shadow_root.iterdir())
    listed = git(folder, "--git-dir", str(shadow), "--work-tree", str(folder), "ls-tree", "-r", "--name-only",
                 "refs/glue/s1/turn-1-after").split()
    assert listed == ["a.txt"]


async def test_a_crowded_untracked_folder_is_left_out_and_named(repo, make_workspace):
    """A dataset nobody told git about is not copied into .git/objects by a checkpoint."""
    data = repo / "dataset" / "images"
    data.mkdir(parents=True)
    for i in range(600):   # the fixture's limit is 500 new files per checkpoint
        (data / f"img{i}.raw").write_bytes(bytes([i % 256]) * 64)
    (repo / "src" / "extra").mkdir()
    for i in range(60):    # a folder git tracks files beside: never left out
        (repo / "src" / "extra" / f"m{i}.py").write_text(f"M = {i}\n")
    loose_before = git(repo, "count-objects")
    workspace = make_workspace(repo)
    await workspace.before_turn(1)
    (repo / "dataset" / "images" / "img0.raw").write_bytes(b"changed")
    (repo / "result.txt").write_text("the agent's output\n")
    await workspace.after_turn(1)
    changes = await workspace.changes(1)
    assert [c["path"] for c in changes["changes"]] == ["result.txt"]
    [notice] = [n for n in workspace.recorder.kinds("notice") if "Left out" in n["text"]]
    assert "dataset/" in notice["text"] and ".gitignore" in notice["text"]
    listed = git(repo, "ls-tree", "-r", "--name-only", "refs/glue/s1/turn-1-after").split()
    assert "src/extra/m0.py" in listed and not any(p.startswith("dataset/") for p in listed)
    objects = int(git(repo, "count-objects").split()[0]) - int(loose_before.split()[0])
    assert objects < 100   # not 600 images
    await workspace.rewind("turn-1-before")
    assert (repo / "dataset/images/img0.raw").read_bytes() == b"changed"   # left alone
    assert not (repo / "result.txt").exists()
    again = make_workspace(repo)   # after a restart the folder stays left out
    await again.before_turn(2)
    assert not [n for n in again.recorder.kinds("notice") if "Left out" in n["text"]]
