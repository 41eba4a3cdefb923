"""What a turn changed, rewind, the worktree bar, queued messages and fork, in real Chromium
against real JupyterLab, on a real git repository edited by the demo agent.

Screenshots (light, dark, phone width) of the Changes view, the rewind confirmation and the
queued messages go to test-artifacts/workspace-*.png.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lab import panel_button
from test_panel import open_session, send, show_panel, turn_ends

pytestmark = pytest.mark.timeout(300)
PHONE = {"width": 390, "height": 844}
GIT_ENV = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org", "GIT_COMMITTER_NAME": "Ada",
           "GIT_COMMITTER_EMAIL": "ada@example.org", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
           "PATH": "/usr/bin:/bin"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True, text=True).stdout


def make_repo(root: Path, name: str) -> Path:
    repo = root / name
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "app.py").write_text("def main():\n    return 1\n")
    (repo / "README.md").write_text("# Project\n\nNotes about the project.\n")
    (repo / "old_notes.txt").write_text("to be deleted\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


def allow_requests(lab_server, sid: str) -> None:
    """Answer the demo agent's permission request for its edits (setup, through the API)."""
    lab_server.wait_session(sid, lambda s: s["pending_permissions"] > 0 or s["state"] != "running")
    events = lab_server.api("GET", f"api/glue/sessions/{sid}/events", expect=200)["events"]
    answered = {e["data"]["request_id"] for e in events if e["kind"] == "permission_answer"}
    for e in events:
        if e["kind"] == "permission_request" and e["data"]["request_id"] not in answered:
            lab_server.api("POST", f"api/glue/sessions/{sid}/permissions/{e['data']['request_id']}",
                           {"option_id": "allow"}, expect=200)


def edited_session(lab_server, name: str, prompt: str, **body) -> tuple[dict, Path]:
    repo = make_repo(lab_server.root_dir, name)
    session = lab_server.api("POST", "api/glue/sessions",
                             {"agent": "demo", "cwd": name, "prompt": prompt, **body}, expect=201)
    allow_requests(lab_server, session["id"])
    return session, repo


def open_finished_session(page: Page, lab_server, open_lab, name: str, prompt: str) -> tuple[str, object, Path]:
    """A session whose first turn (`prompt`, its requests allowed) has ended, opened in the lab:
    (session id, its view, its repository)."""
    session, repo = edited_session(lab_server, name, prompt)
    sid = session["id"]
    lab_server.wait_session(sid, lambda s: s["state"] == "idle")
    open_lab(page)
    return sid, open_session(page, sid), repo


def phone(page: Page) -> None:
    """A phone's width, the sidebars folded away (as JupyterLab does on a small screen)."""
    page.set_viewport_size(PHONE)
    page.evaluate("() => { window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight(); }")
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)


def changes_item(view, turn: int = 1):
    return view.locator('.jp-GlueItem-workspace[data-kind="turn_changes"]').nth(turn - 1)


@pytest.fixture(autouse=True)
def free_slots(lab_server):
    yield
    lab_server.stop_all()


def test_changes_view_and_rewind_with_a_preview_and_confirmation(page: Page, lab_server, open_lab, artifacts,
                                                                  set_theme):
    sid, view, repo = open_finished_session(
        page, lab_server, open_lab, "changes-ui",
        "edit append src/app.py # tidied by the agent; create src/helpers.py def helper():\\n    return 2; "
        "delete old_notes.txt; run echo built > build.log")
    item = changes_item(view)
    expect(item).to_contain_text("Changes")
    expect(item).to_contain_text("4 files")
    expect(item.locator(".jp-GlueChanges-counts")).to_have_text("+4 −1")
    expect(item.locator(".jp-GlueWorkspace-files code")).to_have_count(4)

    item.get_by_role("button", name="Show diffs").click()
    diff = item.locator(".jp-GlueChanges")
    expect(diff.locator(".jp-GlueChanges-file")).to_have_count(4)
    added_line = diff.locator('.jp-GlueChanges-file[data-path="src/app.py"] .jp-GlueDiff-line.jp-mod-added')
    expect(added_line).to_have_text("+# tidied by the agent\n")
    expect(diff.locator('.jp-GlueChanges-file[data-path="old_notes.txt"]')).to_have_attribute("data-status", "deleted")
    item.scroll_into_view_if_needed()
    for theme, name in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        set_theme(page, theme)
        view.screenshot(path=str(artifacts / f"workspace-changes-{name}.png"))

    # Rewind: a preview, a confirmation, then the files are as before the turn.
    item.get_by_role("button", name="Rewind…").click()
    dialog = view.get_by_role("dialog")
    expect(dialog).to_contain_text("Rewind files to before turn 1?")
    expect(dialog.locator(".jp-GlueChanges-file")).to_have_count(4)
    expect(dialog).to_contain_text("The conversation is not rewound")
    dialog.screenshot(path=str(artifacts / "workspace-rewind-confirm-dark.png"))
    set_theme(page, "JupyterLab Light")
    dialog.screenshot(path=str(artifacts / "workspace-rewind-confirm-light.png"))
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert (repo / "src/helpers.py").exists()   # cancelled: nothing changed

    item.get_by_role("button", name="Rewind…").click()
    view.get_by_role("dialog").get_by_role("button", name="Rewind files").click()
    rewound = view.locator('.jp-GlueItem-workspace[data-kind="rewind"]')
    expect(rewound).to_contain_text("Files rewound to before turn 1: 4 files restored or removed")
    assert not (repo / "src/helpers.py").exists() and (repo / "old_notes.txt").exists()
    assert (repo / "src/app.py").read_text() == "def main():\n    return 1\n"
    assert git(repo, "status", "--porcelain") == "?? build.log\n" or not (repo / "build.log").exists()

    rewound.get_by_role("button", name="Undo rewind").click()
    view.get_by_role("dialog").get_by_role("button", name="Rewind files").click()
    expect(view.locator('.jp-GlueItem-workspace[data-kind="rewind"]')).to_have_count(2)
    assert (repo / "src/helpers.py").exists() and not (repo / "old_notes.txt").exists()

    phone(page)
    changes_item(view).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "workspace-changes-phone.png"))
    changes_item(view).get_by_role("button", name="Rewind…").click()
    expect(view.get_by_role("dialog").locator(".jp-GlueChanges-file")).to_have_count(4)
    page.screenshot(path=str(artifacts / "workspace-rewind-confirm-phone.png"))
    view.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert page.glue_errors == []


def test_rewind_while_the_agent_works_is_refused_with_a_reason(page: Page, lab_server, open_lab):
    sid, view, repo = open_finished_session(page, lab_server, open_lab, "busy-ui", "edit create first.txt 1")
    send(view, "edit wait 30")
    expect(view.locator(".jp-GlueSessionView-header > .jp-GlueDot")).to_have_attribute("data-state", "running")
    changes_item(view).get_by_role("button", name="Rewind…").click()
    expect(view.locator(".jp-GlueSessionView-error")).to_contain_text(
        "The agent is working: wait for the turn to end, or interrupt it")
    expect(view.get_by_role("dialog")).to_have_count(0)
    assert (repo / "first.txt").exists()


def test_a_message_typed_while_the_previous_one_is_on_its_way_is_sent_after_it(page: Page, lab_server, open_lab):
    """Enter, then the next message and Enter again before the server has answered the first:
    both are sent, in order, and the second is not wiped from the message box by the first's
    answer (it used to be lost: ignored while busy, then cleared)."""
    session, _ = edited_session(lab_server, "typed-ui", "edit wait 60")
    sid = session["id"]
    open_lab(page)
    view = open_session(page, sid)
    expect(view.locator(".jp-GlueSessionView-header > .jp-GlueDot")).to_have_attribute("data-state", "running")
    held = []
    page.route(f"**/api/glue/sessions/{sid}/prompt*", lambda route: held.append(route))
    composer = view.locator("textarea.jp-GlueComposer-input")
    composer.fill("quick: the first thought")
    with page.expect_request(f"**/api/glue/sessions/{sid}/prompt*"):
        composer.press("Enter")
    expect(composer).to_have_value("")          # taken at once: the box is free for the next one
    composer.fill("quick: the second thought")
    composer.press("Enter")
    assert len(held) == 1                       # the second waits for the first's answer
    for route in held:
        route.continue_()
    page.unroute(f"**/api/glue/sessions/{sid}/prompt*")
    queue = view.locator(".jp-GlueQueue .jp-GlueQueue-item")
    expect(queue).to_have_count(2)
    expect(queue.first).to_contain_text("the first thought")
    expect(queue.nth(1)).to_contain_text("the second thought")
    expect(composer).to_have_value("")
    # A message the server did not take comes back to the box, with the reason.
    page.route(f"**/api/glue/sessions/{sid}/prompt*", lambda route: route.fulfill(
        status=503, content_type="application/json", body='{"message": "Nothing was changed: the disk is full."}'))
    composer.fill("quick: a third thought")
    composer.press("Enter")
    expect(view.locator(".jp-GlueSessionView-error")).to_contain_text("the disk is full")
    expect(composer).to_have_value("quick: a third thought")
    page.unroute(f"**/api/glue/sessions/{sid}/prompt*")
    lab_server.stop_all()


def test_queued_messages_can_be_edited_removed_and_sent_now(page: Page, lab_server, open_lab, artifacts, set_theme):
    session, _ = edited_session(lab_server, "queue-ui", "edit wait 60")
    sid = session["id"]
    open_lab(page)
    view = open_session(page, sid)
    expect(view.locator(".jp-GlueSessionView-header > .jp-GlueDot")).to_have_attribute("data-state", "running")
    composer = view.locator("textarea.jp-GlueComposer-input")
    expect(view.locator("button.jp-GlueComposer-send")).to_have_text("Queue")
    composer.fill("quick: also update the README")
    composer.press("Enter")
    composer.fill("quick: and the changelog")
    composer.press("Enter")
    queue = view.locator(".jp-GlueQueue")
    expect(queue.locator(".jp-GlueQueue-item")).to_have_count(2)
    expect(queue).to_contain_text("2 queued: sent one per turn when the turn ends")

    first = queue.locator(".jp-GlueQueue-item").first
    first.get_by_role("button", name="Edit").click()
    editor = first.locator("textarea.jp-GlueQueue-edit")
    editor.fill("quick: also update the README and the docs")
    first.get_by_role("button", name="Save").click()
    expect(queue.locator(".jp-GlueQueue-item").first).to_contain_text("and the docs")
    queue.locator(".jp-GlueQueue-item").nth(1).get_by_role("button", name="Remove").click()
    expect(queue.locator(".jp-GlueQueue-item")).to_have_count(1)
    composer.fill("quick: a third thought")
    composer.press("Enter")
    expect(queue.locator(".jp-GlueQueue-item")).to_have_count(2)
    for theme, name in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        set_theme(page, theme)
        queue.scroll_into_view_if_needed()
        view.screenshot(path=str(artifacts / f"workspace-queue-{name}.png"))
    phone(page)
    queue.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "workspace-queue-phone.png"))
    page.set_viewport_size({"width": 1400, "height": 900})
    set_theme(page, "JupyterLab Light")

    # "Send now" on the first: the turn is interrupted and it goes at once, the other after it.
    queue.locator(".jp-GlueQueue-item").first.get_by_role("button", name="Send now").click()
    expect(turn_ends(view, "cancelled")).to_have_count(1)
    expect(turn_ends(view)).to_have_count(3)
    users = view.locator(".jp-GlueItem-user")
    expect(users.nth(1)).to_contain_text("also update the README and the docs")
    expect(users.nth(1).locator(".jp-GlueItem-tag")).to_have_text("sent from the queue")
    expect(users.nth(2)).to_contain_text("a third thought")
    expect(queue).to_be_hidden()
    assert page.glue_errors == []


def test_worktree_session_shows_its_branch_and_merges(page: Page, lab_server, open_lab, artifacts):
    repo = make_repo(lab_server.root_dir, "worktree-ui")
    open_lab(page)
    panel = show_panel(page)
    panel_button(page, "glue:new-session").click()
    form = panel.locator("form.jp-GlueNew")
    expect(form.locator("select.jp-GlueNew-agent")).to_have_value("demo")   # the agents have been checked
    form.locator("input.jp-GlueNew-folder").fill("worktree-ui")
    form.locator("input.jp-GlueNew-title").fill("Tidy app")
    form.get_by_text("Worktree of its own").click()
    form.locator("textarea.jp-GlueNew-prompt").fill("edit append src/app.py # from the worktree")
    form.get_by_role("button", name="Start").click()
    view = page.locator("#jp-main-dock-panel .jp-GlueSessionView:visible")
    sid = view.get_attribute("data-session-id")
    allow_requests(lab_server, sid)
    bar = view.locator(".jp-GlueWorktree")
    expect(bar.locator(".jp-GlueWorktree-branch")).to_have_text(f"glue/tidy-app-{sid[:8]}")
    expect(bar).to_contain_text("0 commits ahead of main")
    expect(bar.locator(".jp-GlueWorktree-changes")).to_contain_text("1 file")
    assert (repo / "src/app.py").read_text() == "def main():\n    return 1\n"   # the user's checkout
    view.locator(".jp-GlueSessionView-header").screenshot(path=str(artifacts / "workspace-worktree-header-light.png"))

    bar.get_by_role("button", name="Changes").click()
    expect(view.get_by_role("dialog").locator('.jp-GlueChanges-file[data-path="src/app.py"]')).to_be_visible()
    view.get_by_role("dialog").get_by_role("button", name="Close").click()

    bar.get_by_role("button", name="Merge").click()
    expect(view.locator('.jp-GlueItem-workspace[data-kind="merge"]')).to_contain_text("fast-forward")
    expect(bar.locator(".jp-GlueWorktree-changes")).to_have_text("no changes against main")
    assert (repo / "src/app.py").read_text() == "def main():\n    return 1\n# from the worktree\n"
    assert page.glue_errors == []


def test_fork_from_a_turn_opens_the_fork(page: Page, lab_server, open_lab):
    sid, view, _ = open_finished_session(page, lab_server, open_lab, "fork-ui", "quick: the first idea")
    changes_item(view).get_by_role("button", name="Fork from here").click()
    fork_view = page.locator("#jp-main-dock-panel .jp-GlueSessionView:visible")
    expect(fork_view).not_to_have_attribute("data-session-id", sid)
    expect(fork_view.locator('.jp-GlueItem-workspace[data-kind="forked_from"]')).to_contain_text(
        "Forked from “quick: the first idea” at turn 1")
    expect(fork_view.locator(".jp-GlueItem-user").first).to_contain_text("the first idea")
    fork_view.locator('.jp-GlueItem-workspace[data-kind="forked_from"]').get_by_role(
        "button", name="Open original").click()
    expect(page.locator("#jp-main-dock-panel .jp-GlueSessionView:visible")).to_have_attribute("data-session-id", sid)
    expect(view.locator('.jp-GlueItem-workspace[data-kind="fork"]')).to_contain_text("Forked at turn 1")
    assert page.glue_errors == []
