""""Needs you", wherever the user is in JupyterLab: notifications with actions, the count badge,
tab markers, the page title, browser notifications (opt-in) in a background tab, the triage
group of the side panel, stop all / pause all, rename. One truth: the server's `needs_you`.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from lab import (BACKGROUND_TAB, PANEL, RECORD_NOTIFICATIONS, command, free_slots, open_notebook,
                 open_session, row, shots, show_panel, start_session, tab_of, user_settings, view_of)  # noqa: F401
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(300)

SETTINGS = "glue-jupyter:sessions"
TOAST = ".Toastify__toast"


@pytest.fixture
def notifying(browser, lab_server):
    """A page in a browser that records its notifications, with browser notifications turned on."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(BACKGROUND_TAB)
    context.add_init_script(RECORD_NOTIFICATIONS)
    user_settings(lab_server, SETTINGS, {"browserNotifications": "on"})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: "glue_jupyter" in msg.text and errors.append(msg.text))
    yield pg
    context.close()
    user_settings(lab_server, SETTINGS, None)
    assert errors == []


start = start_session


def badge(pg: Page):
    return pg.locator('.jp-SideBar .lm-TabBar-tab[data-id="glue-sessions-panel"]')


def test_a_permission_request_in_a_background_tab_is_noticed_within_a_second(notifying, lab_server, open_lab,
                                                                              artifacts):
    pg = notifying
    open_lab(pg)
    show_panel(pg)
    pg.evaluate("() => window.__glueBackground(true)")  # the user went to another browser tab
    assert pg.evaluate("document.visibilityState") == "hidden"

    s = start(lab_server, "write from-the-background.md", "Background writer")
    lab_server.wait_session(s["id"], lambda s: s["pending_permissions"] == 1)
    asked = next(e for e in lab_server.api("GET", f"api/glue/sessions/{s['id']}/events")["events"]
                 if e["kind"] == "permission_request")

    # The browser's own notification, while the page is hidden...
    pg.wait_for_function("() => window.__glueNotified.length > 0", timeout=5000)
    note = pg.evaluate("() => { const n = window.__glueNotified[0]; return {title: n.title, body: n.body, at: n.at}; }")
    delay = note["at"] / 1000 - asked["ts"]
    (artifacts / "needs-you-latency.txt").write_text(
        f"permission request recorded -> browser notification in a background tab: {delay:.3f} s\n")
    assert delay < 1.0, f"noticed {delay:.2f} s after the request"
    assert "Background writer" in note["body"] and "permission" in note["body"]
    # ... and the signals waiting in the page: the count in the page title and on the side
    # panel's tab, the toast with Allow / Deny, the row in "Needs you".
    needing = len([x for x in lab_server.sessions() if x["needs_you"]])  # earlier tests' ones too
    assert pg.evaluate("document.title").startswith(f"({needing}) ")
    expect(badge(pg)).to_have_attribute("data-glue-count", str(needing))
    pg.evaluate("() => window.__glueBackground(false)")  # back to the tab
    toast = pg.locator(TOAST, has_text="Background writer")
    expect(toast).to_contain_text("asks permission: Write from-the-background.md")
    expect(toast.get_by_role("button", name="Allow", exact=True)).to_be_visible()
    expect(toast.get_by_role("button", name="Deny", exact=True)).to_be_visible()
    expect(row(pg, s["id"]).locator(".jp-GlueSessionList-needsYou")).to_have_text("permission")
    shots(pg, artifacts, "needs-you-permission-toast")

    # Allow, right from the notification: the request is answered, the signals go away.
    toast.get_by_role("button", name="Allow", exact=True).click()
    lab_server.wait_session(s["id"], lambda s: s["state"] == "idle")
    assert (lab_server.root_dir / "from-the-background.md").exists()
    expect(pg.locator(TOAST, has_text="asks permission")).to_have_count(0)
    # Its turn then finished, not seen yet: it still needs the user, until they look at it.
    expect(row(pg, s["id"]).locator(".jp-GlueSessionList-needsYou")).to_have_text("finished")
    open_session(pg, s["id"])
    expect(row(pg, s["id"]).locator(".jp-GlueSessionList-needsYou")).to_have_count(0)
    if needing > 1:
        expect(badge(pg)).to_have_attribute("data-glue-count", str(needing - 1))
    else:
        expect(badge(pg)).not_to_have_attribute("data-glue-count", re.compile(".*"))
        pg.wait_for_function("() => !document.title.startsWith('(')")


def test_triage_group_and_seen_everywhere(page, lab_server, open_lab, artifacts):
    done = start(lab_server, "quick, then wait for me", "Finished while away")
    busy = start(lab_server, "sleep for a while", "Still working")
    idle = start(lab_server, "quick", "Seen already")
    for s in (done, idle):
        lab_server.wait_session(s["id"], lambda s: s["needs_you"] == "turn_done")
    lab_server.api("POST", f"api/glue/sessions/{idle['id']}/seen", {}, expect=200)
    open_lab(page)
    panel = show_panel(page)
    groups = panel.locator(".jp-GlueSessionList-group")
    expect(groups.first).to_contain_text("Needs you")
    # Needs you, then Working, then the rest: each of ours under its group (earlier tests'
    # sessions share the server, in their own groups).
    ours = {done["id"], busy["id"], idle["id"]}
    expect(row(page, idle["id"])).to_be_visible()
    listed = panel.locator(".jp-GlueSessionList-group, .jp-GlueSessionList-item").evaluate_all(
        "els => els.map(e => e.dataset.group || e.dataset.sessionId)")
    labels = [x for x in listed if x in ours or x in ("Needs you", "Working", "Other sessions")]
    assert labels == ["Needs you", done["id"], "Working", busy["id"], "Other sessions", idle["id"]]
    expect(row(page, done["id"]).locator(".jp-GlueSessionList-needsYou")).to_have_text("finished")
    needing = len([x for x in lab_server.sessions() if x["needs_you"]])
    expect(badge(page)).to_have_attribute("data-glue-count", str(needing))
    shots(page, artifacts, "needs-you-triage", target=panel)

    # Looking at its end is seeing it: the server hears of it, every surface follows.
    view = open_session(page, done["id"])
    expect(view.locator(".jp-GlueItem-turn_end")).to_have_count(1)
    expect(row(page, done["id"]).locator(".jp-GlueSessionList-needsYou")).to_have_count(0)
    assert lab_server.api("GET", f"api/glue/sessions/{done['id']}")["needs_you"] is None
    if needing > 1:
        expect(badge(page)).to_have_attribute("data-glue-count", str(needing - 1))
    else:
        expect(badge(page)).not_to_have_attribute("data-glue-count", re.compile(".*"))


def test_a_failure_marks_the_tab_and_the_row(page, lab_server, open_lab, artifacts):
    s = start(lab_server, "quick", "Will crash")
    lab_server.wait_session(s["id"], lambda s: s["state"] == "idle")
    open_lab(page)
    view = open_session(page, s["id"])
    command(page, "launcher:create")  # look elsewhere
    expect(view).to_be_hidden()
    lab_server.api("POST", f"api/glue/sessions/{s['id']}/prompt", {"text": "crash now"}, expect=200)
    tab = tab_of(page, s["id"])
    expect(tab).to_have_class(re.compile(r"\bjp-mod-failed\b.*\bjp-mod-needsYou\b"))
    expect(row(page, s["id"]).locator(".jp-GlueSessionList-needsYou")).to_have_text("failed")
    expect(page.locator(f"{TOAST}--error", has_text="Will crash")).to_contain_text("failed")
    shots(page, artifacts, "needs-you-failed-tab")
    tab.click()  # seen: the tab's marker goes, the failure stays visible
    expect(tab).not_to_have_class(re.compile(r"\bjp-mod-needsYou\b"))
    expect(tab).to_have_class(re.compile(r"\bjp-mod-failed\b"))


def test_browser_notifications_are_asked_for_once(browser, lab_server, open_lab):
    """Asked the first time they would have helped: a session needed the user while the page
    was in the background. Not asked while the user works in the page."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(BACKGROUND_TAB)
    context.add_init_script(RECORD_NOTIFICATIONS)
    pg = context.new_page()
    user_settings(lab_server, SETTINGS, None)  # never asked
    try:
        open_lab(pg)
        show_panel(pg)
        command(pg, "launcher:create")
        start(lab_server, "quick", "Finished in front of the user")
        expect(pg.locator(TOAST, has_text="Finished in front of the user")).to_be_visible()
        expect(pg.locator(TOAST, has_text="browser notification")).to_have_count(0)
        pg.evaluate("() => window.__glueBackground(true)")
        first = start(lab_server, "quick", "First to finish")
        lab_server.wait_session(first["id"], lambda s: s["needs_you"] == "turn_done")
        assert pg.evaluate("window.__glueNotified.length") == 0  # not on before the user says so
        pg.evaluate("() => window.__glueBackground(false)")
        ask = pg.locator(TOAST, has_text="browser notification")
        expect(ask).to_be_visible()
        # JupyterLab re-reads a setting after saving it; the answer must count before that.
        rereads = []
        pg.route(lambda url: SETTINGS in unquote(url),
                 lambda route: rereads.append(route) if route.request.method == "GET" else route.continue_())
        with pg.expect_response(lambda r: SETTINGS in unquote(r.url) and r.request.method == "PUT" and r.ok):
            ask.get_by_role("button", name="Notify me").click()
        assert pg.evaluate("window.__glueAsked") == 1  # the browser's own prompt, from the click
        saved = lab_server.api("GET", f"lab/api/settings/{SETTINGS}")
        assert '"browserNotifications": "on"' in saved["raw"].replace("'", '"')
        pg.evaluate("() => window.__glueBackground(true)")
        second = start(lab_server, "quick", "Second to finish")
        lab_server.wait_session(second["id"], lambda s: s["needs_you"] == "turn_done")
        pg.wait_for_function("() => window.__glueNotified.some(n => n.body.includes('Second to finish'))")
        assert len(rereads) == 1  # still held: the notification did not wait for it
        rereads.pop().continue_()
        pg.unroute_all()
        pg.evaluate("() => window.__glueBackground(false)")
        expect(pg.locator(TOAST, has_text="Second to finish")).to_be_visible()
        expect(pg.locator(TOAST, has_text="browser notification")).to_have_count(0)  # asked once
    finally:
        context.close()
        user_settings(lab_server, SETTINGS, None)


def test_stop_all_and_pause_all_ask_first(page, lab_server, open_lab, artifacts):
    ids = [start(lab_server, "sleep for a while", f"Busy {i}")["id"] for i in range(3)]
    for sid in ids:
        lab_server.wait_session(sid, lambda s: s["state"] == "running")
    open_lab(page)
    show_panel(page)
    pause_all = page.locator(f'{PANEL} [data-command="glue:pause-all"]')
    pause_all.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Pause 3 sessions?")
    for i in range(3):
        expect(dialog.locator("li", has_text=f"Busy {i}")).to_contain_text("running")
    shots(page, artifacts, "pause-all-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    assert {s["state"] for s in lab_server.sessions() if s["id"] in ids} == {"running"}

    pause_all.click()
    page.locator(".jp-Dialog").get_by_role("button", name="Pause 3").click()
    for sid in ids:
        expect(row(page, sid)).to_have_attribute("data-state", "paused")

    page.locator(f'{PANEL} [data-command="glue:stop-all"]').click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Stop 3 sessions?")
    dialog.get_by_role("button", name="Stop 3").click()
    for sid in ids:
        expect(row(page, sid)).to_have_attribute("data-state", "stopped")
    expect(page.locator(f'{PANEL} [data-command="glue:stop-all"]')).to_have_attribute("aria-disabled", "true")


def test_rename_from_the_panel_the_tab_and_elsewhere(page, lab_server, open_lab, artifacts):
    s = start(lab_server, "quick", "Old name")
    lab_server.wait_session(s["id"], lambda s: s["state"] == "idle")
    open_lab(page)
    show_panel(page)
    # From the row's context menu: JupyterLab's own input dialog.
    row(page, s["id"]).click(button="right")
    page.locator(".lm-Menu").get_by_text("Rename…").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input").fill("From the panel")
    shots(page, artifacts, "rename-dialog")
    dialog.get_by_role("button", name="Rename").click()
    expect(row(page, s["id"])).to_contain_text("From the panel")
    # In the header: double-click the title, type, Enter.
    view = open_session(page, s["id"])
    view.locator(".jp-GlueSessionView-title").dblclick()
    view.locator(".jp-GlueSessionView-titleInput").fill("From the header")
    view.locator(".jp-GlueSessionView-titleInput").press("Enter")
    expect(tab_of(page, s["id"])).to_contain_text("From the header")
    expect(row(page, s["id"])).to_contain_text("From the header")
    # From anywhere else (the CLI, %glue rename, HTTP): every view follows.
    lab_server.api("PATCH", f"api/glue/sessions/{s['id']}", {"title": "From the terminal"}, expect=200)
    expect(view.locator(".jp-GlueSessionView-title")).to_have_text("From the terminal")
    expect(tab_of(page, s["id"])).to_contain_text("From the terminal")
    expect(view_of(page, s["id"])).to_be_visible()


def test_a_notebook_showing_a_widget_that_needs_you_is_marked(page, lab_server, open_lab, artifacts):
    """The same signals for a session in a notebook widget: the notebook's tab is marked while
    the user looks elsewhere, the widget says why, and Allow in the widget takes the marks away."""
    name = "asks_in_a_widget.ipynb"
    open_notebook(page, open_lab, lab_server, name,
                  "%load_ext glue_jupyter\n%glue start --agent demo --cwd . --title Asker write widget-asks.md")
    command(page, "notebook:run-cell")
    view = page.locator(".jp-GlueWidget .jp-GlueSessionView")
    expect(view).to_have_attribute("data-needs-you", "permission")
    expect(view.locator(".jp-GlueSessionView-needsYou")).to_have_text("waits for your permission")
    command(page, "launcher:create")  # the user looks elsewhere
    notebook_tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text=name)
    expect(notebook_tab).to_have_class(re.compile(r"\bjp-GlueHost-needsYou\b"))
    shots(page, artifacts, "needs-you-notebook-tab")
    notebook_tab.click()
    view.locator(".jp-GluePermission-options").get_by_role("button", name="Allow", exact=True).click()
    expect(view).to_have_attribute("data-state", "idle")
    assert (lab_server.root_dir / "widget-asks.md").exists()
    expect(notebook_tab).not_to_have_class(re.compile(r"\bjp-GlueHost-needsYou\b"))
    expect(view).to_have_attribute("data-needs-you", "")  # the finished turn is in view: seen
