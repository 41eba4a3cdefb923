"""The "Agent sessions" side panel and session view, in real Chromium against real JupyterLab.

Each test reads as a user story; waits are on what the user sees.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect


pytestmark = pytest.mark.timeout(300)

from lab import (PANEL, button, expect_controls, header_dot, open_session, option, panel_button, row_of,  # noqa: F401
                 send, show_panel, start_from_composer, turn_ends)


@pytest.fixture(autouse=True)
def free_slots(lab_server):
    yield
    lab_server.stop_all()


# ----- stories ---------------------------------------------------------------------------


def test_empty_panel_and_composer_defaults(page, lab_server, open_lab, artifacts):
    (lab_server.root_dir / "project-a").mkdir(exist_ok=True)
    open_lab(page)
    panel = show_panel(page)
    if not lab_server.sessions():
        expect(panel.locator(".jp-GlueSessionsPanel-empty")).to_contain_text("No sessions yet — start one.")
        page.screenshot(path=str(artifacts / "panel-empty-light.png"))
    # The folder follows the file browser.
    page.locator('.jp-SideBar .lm-TabBar-tab[data-id="filebrowser"]').click()
    page.locator('.jp-DirListing-item[title^="Name: project-a"]').dblclick()
    expect(page.locator(".jp-BreadCrumbs")).to_contain_text("project-a")
    panel = show_panel(page)
    panel_button(page, "glue:new-session").click()
    form = panel.locator("form.jp-GlueNew")
    expect(form.locator("input.jp-GlueNew-folder")).to_have_value("project-a")
    # Installed agents first; one that is not installed says how to install it.
    options = form.locator("select.jp-GlueNew-agent option")
    expect(options.first).to_have_attribute("value", "demo")
    form.locator("select.jp-GlueNew-agent").select_option("missing-agent")
    expect(form.locator(".jp-GlueNew-hint")).to_contain_text("pip install missing-agent")
    expect(form.get_by_role("button", name="Start")).to_be_disabled()
    form.locator("select.jp-GlueNew-agent").select_option("demo")
    expect(form.get_by_role("button", name="Start")).to_be_enabled()
    # The server checked the agent: its version and what it can do, before any session.
    expect(form.locator(".jp-GlueNew-hint")).to_contain_text("native resume, adopt sessions")
    page.screenshot(path=str(artifacts / "panel-composer-light.png"))
    form.get_by_role("button", name="Cancel").click()
    expect(form).to_be_hidden()
    assert page.glue_errors == []


def test_start_before_the_agents_are_checked_is_kept(page, lab_server, open_lab):
    """The first check of the agents takes seconds with real agents: a Start pressed meanwhile
    is said and kept, and the session starts once the check answers (it used to do nothing)."""
    held = []
    page.route("**/api/glue/agents*", lambda route: held.append(route))
    open_lab(page)
    panel = show_panel(page)
    panel_button(page, "glue:new-session").click()
    form = panel.locator("form.jp-GlueNew")
    form.locator("textarea.jp-GlueNew-prompt").fill("quick, started before the check")
    form.locator("textarea.jp-GlueNew-prompt").press("Enter")
    expect(form.locator(".jp-GlueNew-hint")).to_contain_text("starts as soon as they answer")
    expect(form.get_by_role("button", name="Start")).to_be_disabled()
    assert held, "the form asked for the agents"
    for route in held:
        route.continue_()
    page.unroute("**/api/glue/agents*")
    view = page.locator("#jp-main-dock-panel .jp-GlueSessionView:visible")
    expect(view).to_contain_text("quick, started before the check")
    expect(form).to_be_hidden()


def test_start_watch_and_interrupt(page, lab_server, open_lab):
    open_lab(page)
    view = start_from_composer(page, "sleep a little, then answer", title="Interrupt me")
    # It streams: the turn runs and text arrives.
    expect(header_dot(view)).to_have_attribute("data-state", "running")
    expect(row_of(page, view).locator(".jp-GlueDot")).to_have_attribute("data-state", "running")
    message = view.locator(".jp-GlueItem-message").first
    expect(message).to_contain_text("Waiting for sleep")
    expect(message).to_contain_text("2 s")
    expect_controls(view, {"interrupt", "pause", "stop"})

    button(view, "Interrupt").click()
    expect(turn_ends(view, "cancelled")).to_have_count(1)
    expect(turn_ends(view, "cancelled")).to_contain_text("interrupted")
    expect(header_dot(view)).to_have_attribute("data-state", "idle")
    expect_controls(view, {"pause", "stop"})
    frozen = message.inner_text()
    # (The turn's Changes summary follows its end, outside the turn: not counted here.)
    items_of_turn_1 = view.locator(".jp-GlueItem:not(.jp-GlueItem-workspace)").count()

    # The composer stays usable; a whole new turn runs (longer than the sleep turn's 1 s
    # chunk interval) and not one more word of the cancelled turn arrives meanwhile.
    send(view, "what is in this folder?")
    expect(turn_ends(view)).to_have_count(2)
    expect(turn_ends(view).nth(1)).to_have_attribute("data-stop-reason", "end_turn")
    assert message.inner_text() == frozen
    first_turn_end = turn_ends(view).first
    assert view.locator(".jp-GlueItem:not(.jp-GlueItem-workspace)").nth(items_of_turn_1 - 1).get_attribute("data-index") == \
        first_turn_end.get_attribute("data-index")
    assert page.glue_errors == []


def test_pause_and_resume(page, lab_server, open_lab):
    open_lab(page)
    view = start_from_composer(page, "sleep while I pause you", title="Pause me")
    message = view.locator(".jp-GlueItem-message").first
    expect(message).to_contain_text("Waiting for sleep")

    button(view, "Pause").click()
    expect(header_dot(view)).to_have_attribute("data-state", "paused")
    expect(row_of(page, view).locator(".jp-GlueDot")).to_have_attribute("data-state", "paused")
    expect(view.locator(".jp-GlueSessionView-time")).to_contain_text("paused for")
    expect_controls(view, {"stop", "resume"})
    expect(view.locator("button.jp-GlueComposer-send")).to_have_text("Resume & send")

    before = message.inner_text()
    button(view, "Resume").click()
    expect(header_dot(view)).to_have_attribute("data-state", re.compile("running|idle"))
    expect(view.locator(".jp-GlueSessionView-meta")).to_contain_text("resumed after a pause")
    expect(view.locator(".jp-GlueItem-line[data-variant='resume']")).to_contain_text("Resumed after the pause")
    # The same turn goes on streaming after the thaw.
    expect(message).not_to_have_text(before)

    button(view, "Stop").click()
    expect(header_dot(view)).to_have_attribute("data-state", "stopped")


def test_stop_then_resume_with_a_message(page, lab_server, open_lab, artifacts):
    open_lab(page)
    view = start_from_composer(page, "quick hello from the stop test", title="Stop me")
    expect(turn_ends(view, "end_turn")).to_have_count(1)
    expect(header_dot(view)).to_have_attribute("data-state", "idle")

    button(view, "Stop").click()
    expect(header_dot(view)).to_have_attribute("data-state", "stopped")
    row_dot = row_of(page, view).locator(".jp-GlueDot")
    expect(row_dot).to_have_attribute("data-state", "stopped")
    # The dot is grey: the theme's neutral layout colour, no pulse.
    sid = view.get_attribute("data-session-id")
    page.wait_for_function(
        """(sid) => {
            const el = document.querySelector(
                `#glue-sessions-panel .jp-GlueSessionList-item[data-session-id="${sid}"] .jp-GlueDot`);
            if (!el) return false;
            const probe = document.createElement('span');
            probe.style.background = 'var(--jp-layout-color4)';
            document.body.appendChild(probe);
            const grey = getComputedStyle(probe).backgroundColor;
            probe.remove();
            const cs = getComputedStyle(el);
            return cs.backgroundColor === grey && cs.animationName === 'none';
        }""",
        arg=sid,
    )
    expect_controls(view, {"resume"})
    expect(view.locator(".jp-GlueComposer-hint")).to_contain_text("stays as it is until you resume")

    send(view, "recall what I said before")
    expect(view.locator(".jp-GlueItem-line[data-variant='resume']")).to_have_count(1)
    expect(view.locator(".jp-GlueItem-user").last).to_contain_text("recall what I said before")
    expect(turn_ends(view, "end_turn")).to_have_count(2)
    expect(view.locator(".jp-GlueItem-message").last).to_contain_text("quick hello from the stop test")
    expect(header_dot(view)).to_have_attribute("data-state", "idle")
    expect(view.locator(".jp-GlueSessionView-meta")).to_contain_text(
        re.compile("resumed: the agent picked up the conversation|resumed with the conversation so far"))


def test_approve_a_permission_request(page, lab_server, open_lab):
    open_lab(page)
    target = lab_server.root_dir / "notes.md"
    target.unlink(missing_ok=True)
    view = start_from_composer(page, "write notes.md", title="Permission")
    request = view.locator(".jp-GlueItem-permission")
    expect(request).to_contain_text("asks permission")
    expect(row_of(page, view).locator(".jp-GlueSessionList-needsYou[data-reason='permission']")).to_be_visible()
    allow = option(request, "allow_once")
    expect(option(request, "reject_once")).to_be_enabled()
    allow.click()
    # Answered: the buttons go away, the answer is recorded, the file is written.
    expect(request.locator("button[data-option-id]")).to_have_count(0)
    expect(request).to_contain_text("Answered: Allow")
    expect(turn_ends(view, "end_turn")).to_have_count(1)
    expect(turn_ends(view)).to_contain_text("notes.md")
    expect(view.locator(".jp-GlueItem-tool .jp-GlueDiff")).to_contain_text("notes.md")
    expect(row_of(page, view).locator(".jp-GlueSessionList-needsYou[data-reason='permission']")).to_have_count(0)
    assert target.exists()


def test_search_finds_a_word_in_one_transcript(page, lab_server, open_lab):
    a = lab_server.api("POST", "api/glue/sessions",
                       {"agent": "demo", "cwd": ".", "title": "Search A", "prompt": "quick pelican7781 here"},
                       expect=201)
    b = lab_server.api("POST", "api/glue/sessions",
                       {"agent": "demo", "cwd": ".", "title": "Search B", "prompt": "quick albatross here"},
                       expect=201)
    for s in (a, b):
        lab_server.wait_session(s["id"], lambda s: s["state"] == "idle" and s["turns"] >= 1)
    open_lab(page)
    panel = show_panel(page)
    rows = panel.locator(".jp-GlueSessionList-item")
    expect(panel.locator(f'.jp-GlueSessionList-item[data-session-id="{b["id"]}"]')).to_be_visible()
    search = panel.locator("input.jp-GlueSessionsPanel-search")
    search.press_sequentially("pelican7781", delay=30)
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-session-id", a["id"])
    expect(rows.first).to_contain_text("Search A")
    search.fill("no-such-word-anywhere")
    expect(panel.locator(".jp-GlueSessionsPanel-empty")).to_contain_text("No sessions match")
    panel.get_by_role("button", name="Clear search and filters").click()
    expect(panel.locator(f'.jp-GlueSessionList-item[data-session-id="{b["id"]}"]')).to_be_visible()
    # Filters: by state.
    panel.locator("select.jp-GlueSessionsPanel-stateFilter").select_option("idle")
    expect(panel.locator('.jp-GlueSessionList-item:not([data-state="idle"])')).to_have_count(0)
    expect(panel.locator(f'.jp-GlueSessionList-item[data-session-id="{a["id"]}"]')).to_be_visible()


def test_context_menu_forget_and_running_panel(page, lab_server, open_lab):
    s = lab_server.api("POST", "api/glue/sessions",
                       {"agent": "demo", "cwd": ".", "title": "Forget me", "prompt": "quick"}, expect=201)
    lab_server.wait_session(s["id"], lambda s: s["state"] == "idle")
    open_lab(page)
    row = show_panel(page).locator(f'.jp-GlueSessionList-item[data-session-id="{s["id"]}"]')
    expect(row).to_be_visible()

    # The Running panel lists the live session, with Stop.
    page.locator('.jp-SideBar .lm-TabBar-tab[data-id="jp-running-sessions"]').click()
    running = page.locator(".jp-RunningSessions-item.jp-GlueRunningItem", has_text="Forget me")
    expect(running).to_be_visible()
    running.hover()
    running.locator(".jp-RunningSessions-itemShutdown").click()
    expect(running).to_have_count(0)
    lab_server.wait_session(s["id"], lambda s: s["state"] == "stopped")

    # Context menu on the list item: Forget, after a confirmation.
    row = show_panel(page).locator(f'.jp-GlueSessionList-item[data-session-id="{s["id"]}"]')
    expect(row).to_have_attribute("data-state", "stopped")
    row.click(button="right")
    menu = page.locator(".lm-Menu")
    expect(menu.get_by_text("Resume", exact=True)).to_be_visible()
    menu.get_by_text("Forget…").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Forget session?")
    dialog.get_by_role("button", name="Forget").click()
    expect(row).to_have_count(0)
    assert all(x["id"] != s["id"] for x in lab_server.sessions())


def test_sort_and_group_are_kept_in_user_settings(page, lab_server, open_lab):
    """Sort and grouping survive a reload: they live in the user's settings on the server
    (the test server's config dir, a temp dir), not in the workspace, which `?reset` clears."""
    lab_server.api("POST", "api/glue/sessions",
                   {"agent": "demo", "cwd": ".", "title": "Grouped", "prompt": "quick"}, expect=201)
    open_lab(page)
    panel = show_panel(page)
    sort, group = panel.locator("select.jp-GlueSessionsPanel-sort"), panel.locator("select.jp-GlueSessionsPanel-group")
    expect(sort).to_have_value("activity")
    expect(group).to_have_value("attention")
    saved = "lab/api/settings/glue-jupyter:sessions"
    try:
        for select, label in ((sort, "Sort: agent"), (group, "Group: folder")):
            with page.expect_response(lambda r: saved in r.url and r.request.method == "PUT" and r.ok):
                select.select_option(label=label)
        expect(panel.locator(".jp-GlueSessionList-group").first).to_be_visible()

        open_lab(page)  # a clean workspace
        panel = show_panel(page)
        expect(panel.locator("select.jp-GlueSessionsPanel-sort")).to_have_value("agent")
        expect(panel.locator("select.jp-GlueSessionsPanel-group")).to_have_value("folder")
        expect(panel.locator(".jp-GlueSessionList-group").first).to_be_visible()
    finally:  # the server outlives this test: back to the defaults for the others
        lab_server.api("PUT", saved, {"raw": "{}"}, expect=204)
    assert page.glue_errors == []


def test_screenshots_light_and_dark(page, lab_server, open_lab, artifacts, set_theme):
    """Panel and transcript in both themes, for a human to look at."""
    done = lab_server.api("POST", "api/glue/sessions",
                          {"agent": "demo", "cwd": ".", "title": "Tidy up the loading code",
                           "prompt": "Tidy up the loading code in utils.py"}, expect=201)
    asking = lab_server.api("POST", "api/glue/sessions",
                            {"agent": "demo", "cwd": ".", "title": "Write the notes",
                             "prompt": "write screenshot-notes.md"}, expect=201)
    lab_server.wait_session(done["id"], lambda s: s["state"] == "idle" and s["turns"] >= 1)
    lab_server.wait_session(asking["id"], lambda s: s["pending_permissions"] > 0)
    open_lab(page)
    for theme, name in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        set_theme(page, theme)
        view = open_session(page, done["id"])
        expect(turn_ends(view, "end_turn")).to_have_count(1)
        expect(view.locator(".jp-GlueSessionView-meta")).to_contain_text("Idle")
        view.locator(".jp-GlueItem-tool details").first.evaluate("d => d.open = true")
        page.screenshot(path=str(artifacts / f"session-view-{name}.png"))
        show_panel(page).screenshot(path=str(artifacts / f"panel-{name}.png"))
        view = open_session(page, asking["id"])
        expect(view.locator(".jp-GlueItem-permission button[data-option-id]")).to_have_count(3)
        page.screenshot(path=str(artifacts / f"session-permission-{name}.png"))
    set_theme(page, "JupyterLab Light")
    assert page.glue_errors == []


@pytest.mark.parametrize("reply,says", [
    ({"status": 200, "json": {"version": "0.0.1", "active": 0, "limit": 4}},
     "server extension is version 0.0.1, but this panel is version"),
    ({"status": 404, "json": {"message": "Not Found"}}, "server extension is not running on this Jupyter server"),
])
def test_server_extension_missing_or_other_version_is_said_plainly(page, open_lab, reply, says):
    # The only faked response in the browser tests: another version of the server extension
    # cannot be installed beside this one, so its answer to `info` is played back instead.
    page.route("**/api/glue/info*", lambda route: route.fulfill(
        status=reply["status"], content_type="application/json", body=json.dumps(reply["json"])))
    open_lab(page)
    banner = show_panel(page).locator(".jp-GlueBanner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(says)
