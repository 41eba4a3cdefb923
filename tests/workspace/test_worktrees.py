"""A git worktree per session: isolation, ahead/diff, merge (fast-forward, merge commit,
conflict), discard, removal on forget. Real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from glue_jupyter.engine.workspace import WorkspaceError
from gitrepos import git, make_repo, user_state


@pytest.fixture
def project(tmp_path):
    return make_repo(tmp_path / "project", {"app.py": "A = 1\n", "lib/util.py": "U = 1\n"})


def users_own(state: dict) -> dict:
    """The user's state, less the session branches glue owns."""
    branches = "".join(line + "\n" for line in state["branches"].splitlines() if "refs/heads/glue/" not in line)
    return {**state, "branches": branches}


async def isolated(make_workspace, project, session_id, title="Fix the app", folder=None):
    workspace = make_workspace(folder or project, session_id)
    cwd = await workspace.create_worktree(title)
    return workspace, Path(cwd)


async def test_each_session_works_in_its_own_worktree_and_branch(project, make_workspace, settings):
    state = user_state(project)
    first, one = await isolated(make_workspace, project, "aaaaaaaa1111")
    second, two = await isolated(make_workspace, project, "bbbbbbbb2222")
    assert one != two and one.parent == two.parent == settings.worktrees_dir
    (one / "app.py").write_text("A = 'first'\n")
    (two / "app.py").write_text("A = 'second'\n")
    assert (project / "app.py").read_text() == "A = 1\n"
    assert (one / "app.py").read_text() == "A = 'first'\n" and (two / "app.py").read_text() == "A = 'second'\n"
    assert users_own(user_state(project)) == state   # new glue/ branches: the only change
    described = first.describe()["worktree"]
    assert described["branch"] == "glue/fix-the-app-aaaaaaaa" and described["base"] == "main"
    assert git(project, "branch", "--list", "--format=%(refname:short)", "glue/*").split() == ["glue/fix-the-app-aaaaaaaa", "glue/fix-the-app-bbbbbbbb"]


async def test_a_session_started_in_a_subfolder_works_in_the_same_subfolder(project, make_workspace):
    workspace, cwd = await isolated(make_workspace, project, "cccccccc3333", folder=project / "lib")
    assert cwd.name == "lib" and (cwd / "util.py").exists()


async def test_status_shows_branch_ahead_and_the_diff_against_the_base(project, make_workspace):
    workspace, cwd = await isolated(make_workspace, project, "dddddddd4444")
    (cwd / "app.py").write_text("A = 2\n")
    git(cwd, "commit", "-qam", "agent commit")
    (cwd / "new.py").write_text("N = 1\n")     # uncommitted, untracked
    status = await workspace.worktree_status()
    assert (status["ahead"], status["behind"], status["uncommitted"]) == (1, 0, 1)
    assert {c["path"] for c in status["changes"]} == {"app.py", "new.py"}
    assert status["branch"].startswith("glue/") and status["base"] == "main"


async def test_merge_fast_forwards_the_checked_out_base_with_uncommitted_work_committed(project, make_workspace):
    workspace, cwd = await isolated(make_workspace, project, "eeeeeeee5555")
    (cwd / "app.py").write_text("A = 'merged'\n")
    (cwd / "added.py").write_text("ADDED = 1\n")
    result = await workspace.merge("Fix the app")
    assert result["how"] == "fast-forward" and result["committed_uncommitted_work"] is True
    assert (project / "app.py").read_text() == "A = 'merged'\n" and (project / "added.py").exists()
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "log", "-1", "--format=%s") == "Fix the app\n"
    assert (await workspace.worktree_status())["ahead"] == 0
    assert workspace.recorder.kinds("merge")[0]["how"] == "fast-forward"


async def test_merge_makes_a_merge_commit_when_the_base_moved_on(project, make_workspace):
    workspace, cwd = await isolated(make_workspace, project, "ffffffff6666")
    (cwd / "lib/util.py").write_text("U = 'session'\n")
    (project / "app.py").write_text("A = 'user moved on'\n")
    git(project, "commit", "-qam", "user's own commit")
    result = await workspace.merge("Util work")
    assert result["how"] == "merge commit"
    assert (project / "lib/util.py").read_text() == "U = 'session'\n"
    assert (project / "app.py").read_text() == "A = 'user moved on'\n"
    assert len(git(project, "log", "-1", "--format=%P").split()) == 2


async def test_a_conflict_is_reported_with_its_files_and_nothing_is_half_merged(project, make_workspace):
    workspace, cwd = await isolated(make_workspace, project, "0000aaaa7777")
    (cwd / "app.py").write_text("A = 'session'\n")
    (project / "app.py").write_text("A = 'user'\n")
    git(project, "commit", "-qam", "user's change")
    state = user_state(project)
    with pytest.raises(WorkspaceError, match=r"would conflict in: app\.py\. Nothing was merged"):
        await workspace.merge("Conflicting")
    assert users_own(user_state(project)) == users_own(state)
    assert (project / "app.py").read_text() == "A = 'user'\n"
    assert not (Path(git(project, "rev-parse", "--absolute-git-dir").strip()) / "MERGE_HEAD").exists()


async def test_merge_refuses_when_the_users_uncommitted_changes_would_be_overwritten(project, make_workspace):
    workspace, cwd = await isolated(make_workspace, project, "1111bbbb8888")
    (cwd / "app.py").write_text("A = 'session'\n")
    (project / "app.py").write_text("A = 'my uncommitted work'\n")
    state = user_state(project)
    with pytest.raises(WorkspaceError, match="uncommitted changes that the merge would overwrite.*app.py"):
        await workspace.merge("Overwrite")
    assert users_own(user_state(project)) == users_own(state)
    assert (project / "app.py").read_text() == "A = 'my uncommitted work'\n"


async def test_merge_into_a_base_branch_not_checked_out_moves_only_the_ref(project, make_workspace):
    workspace, cwd = await isolated(make_workspace, project, "2222cccc9999")
    git(project, "checkout", "-q", "-b", "elsewhere")
    (cwd / "app.py").write_text("A = 'to main'\n")
    result = await workspace.merge("To main")
    assert result["how"] == "fast-forward"
    assert git(project, "show", "main:app.py") == "A = 'to main'\n"
    assert (project / "app.py").read_text() == "A = 1\n"   # the checkout on `elsewhere` is untouched


async def test_discard_throws_the_work_away_but_keeps_a_checkpoint_to_undo_it(project, make_workspace):
    workspace, cwd = await isolated(make_workspace, project, "3333dddd0000")
    (cwd / "app.py").write_text("A = 'discard me'\n")
    (cwd / "junk.py").write_text("J = 1\n")
    git(cwd, "add", "junk.py")
    git(cwd, "commit", "-qm", "junk")
    result = await workspace.discard()
    assert (cwd / "app.py").read_text() == "A = 1\n" and not (cwd / "junk.py").exists()
    assert (await workspace.worktree_status())["ahead"] == 0
    await workspace.rewind(result["undo"])
    assert (cwd / "app.py").read_text() == "A = 'discard me'\n" and (cwd / "junk.py").exists()


async def test_forget_removes_the_worktree_and_keeps_a_branch_only_if_it_holds_unmerged_work(project, make_workspace):
    merged, cwd_merged = await isolated(make_workspace, project, "4444eeee1111", title="merged")
    (cwd_merged / "app.py").write_text("A = 'merged'\n")
    await merged.merge("merged")
    unmerged, cwd_unmerged = await isolated(make_workspace, project, "5555ffff2222", title="unmerged")
    (cwd_unmerged / "lib/util.py").write_text("U = 'never merged'\n")
    assert "deleted branch" in await merged.forget()
    assert "kept branch glue/unmerged-5555ffff" in await unmerged.forget()
    assert not cwd_merged.exists() and not cwd_unmerged.exists()
    assert git(project, "branch", "--list", "--format=%(refname:short)", "glue/*").split() == ["glue/unmerged-5555ffff"]
    assert git(project, "show", "glue/unmerged-5555ffff:lib/util.py") == "U = 'never merged'\n"
    assert "unmerged" not in git(project, "worktree", "list")


async def test_a_worktree_needs_a_repository_with_a_commit(tmp_path, make_workspace):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(WorkspaceError, match="needs a git repository"):
        await make_workspace(plain).create_worktree("x")
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(WorkspaceError, match="no commit yet"):
        await make_workspace(empty).create_worktree("x")


async def test_worktree_controls_on_a_session_without_one_say_so(project, make_workspace):
    with pytest.raises(WorkspaceError, match="has no worktree of its own"):
        await make_workspace(project).merge("x")
