"""The portal's page in headless Chromium, signed in through the hub's own login and OAuth: what
alice sees and does, what carol (a glue admin) sees; screenshots in light, dark and phone width
under test-artifacts/."""

from __future__ import annotations

import os
import re
import signal

import pytest
from hub_fixtures import PASSWORD

from ui.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, missing_browser

MISSING = missing_browser()
if MISSING and os.environ.get("CI"):
    raise pytest.UsageError(f"the portal's browser test cannot run: {MISSING}")
pytestmark = pytest.mark.skipif(bool(MISSING), reason=str(MISSING))
if not MISSING:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def signed_in(browser, hub):
    """Factory: a page signed in to the hub as `user` (its login form), showing the portal."""
    contexts = []

    def sign_in(user: str, viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 860})
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{hub.url}hub/login?next=/services/glue/")
        page.fill("#username_input", user)
        page.fill("#password_input", PASSWORD)
        page.click("#login_submit")
        page.wait_for_url(re.compile(r"/services/glue/$"))  # through the hub's OAuth, no confirmation
        expect(page.locator("#glue-summary")).to_contain_text("server")
        return page

    yield sign_in
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True)


def row(page, title: str):
    return page.locator(".glue-session", has=page.get_by_text(title, exact=True))


def test_alice_steers_her_sessions_on_both_servers(hub, tokens, started, signed_in):
    started("alice", title="Tidy up the loading code", prompt="quick")
    asking = started("alice", server="lab2", title="Write the release notes", prompt="write NOTES.md")
    finished = started("alice", server="lab2", title="Explain the test failures")
    hub.glue("POST", "alice", f"sessions/{finished['id']}/stop", tokens["alice"], {}, server="lab2")
    hub.wait_session("alice", tokens["alice"], asking["id"], lambda s: s["pending_permissions"] == 1,
                     "the permission request", server="lab2")
    started("bob", title="Bob's private work")

    page = signed_in("alice")
    default, lab2 = page.locator('.glue-server[data-server=""]'), page.locator('.glue-server[data-server="lab2"]')
    expect(default.locator("h2")).to_have_text("default server")
    expect(default).to_contain_text("of 3 active")  # alice's limit, from the hub
    expect(lab2.locator("h2")).to_have_text("lab2")
    expect(row(page, "Write the release notes")).to_contain_text("waits for your answer")
    expect(page.get_by_text("Bob's private work")).to_have_count(0)
    expect(row(page, "Tidy up the loading code")).to_contain_text("finished a turn")  # not yet seen
    expect(page.locator("#glue-summary")).to_contain_text("2 need you")
    shot(page, "light")
    page.get_by_label("Needs you").check()
    expect(page.get_by_text("Explain the test failures")).to_have_count(0)
    expect(page.locator("#glue-summary")).to_contain_text("2 shown")
    page.get_by_label("Needs you").uncheck()
    expect(page.get_by_text("Explain the test failures")).to_be_visible()

    # Answer the agent from the portal: the request's own options, then the turn goes on.
    notes = row(page, "Write the release notes")
    notes.get_by_role("button", name="Answer…").click()
    expect(notes).to_contain_text("NOTES.md")
    shot(page, "answer")
    notes.get_by_role("button", name="Allow", exact=True).click()
    expect(notes.locator(".glue-state")).to_have_text("idle")
    expect(notes.get_by_role("button", name="Answer…")).to_have_count(0)

    # The page's own requests carry the XSRF token; a forged one from another page would not.
    forged = page.evaluate("""async (path) => (await fetch(path, {method: "POST", body: "{}",
        credentials: "same-origin"})).status""", f"/services/glue/api/users/alice/sessions/{asking['id']}/stop")
    assert forged == 403
    expect(notes.locator(".glue-state")).to_have_text("idle")

    tidy = row(page, "Tidy up the loading code")
    tidy.get_by_role("button", name="Pause").click()
    expect(tidy.locator(".glue-state")).to_have_text("paused")
    expect(tidy.get_by_role("button", name="Resume")).to_be_visible()

    # The hub's own theme switch, shared with the hub's pages.
    page.click("#dark-theme-toggle")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    shot(page, "dark")
    page.click("#dark-theme-toggle")

    phone = signed_in("alice", viewport=PHONE)
    expect(phone.locator(".glue-server")).to_have_count(2)
    shot(phone, "phone")


def test_an_illegal_control_shows_the_servers_message(hub, tokens, started, signed_in):
    sid = started("alice", title="Racing the button")["id"]
    hub.wait_session("alice", tokens["alice"], sid, lambda s: s["state"] == "idle", "idle")
    page = signed_in("alice")
    racing = row(page, "Racing the button")
    expect(racing.get_by_role("button", name="Stop")).to_be_visible()
    hub.glue("POST", "alice", f"sessions/{sid}/stop", tokens["alice"], {})  # from elsewhere, meanwhile
    racing.get_by_role("button", name="Stop").click()
    expect(page.locator("#glue-alert")).to_contain_text("Stop “Racing the button”")
    expect(page.locator("#glue-alert")).to_contain_text("stopped")
    expect(racing.locator(".glue-state")).to_have_text("stopped")


def test_carol_sees_everyone_and_filters(hub, started, signed_in):
    started("bob", title="Bob's nightly data check")
    started("alice", title="Alice's refactor")
    page = signed_in("carol")
    expect(page.locator("#glue-summary")).to_contain_text("every user")
    bobs = page.locator('.glue-server[data-user="bob"]')
    expect(bobs.locator("h2")).to_have_text("bob · default server")
    expect(page.locator('.glue-server[data-user="carol"] .btn', has_text="Start server")).to_have_attribute(
        "href", re.compile(r"/hub/spawn/carol\?next="))

    frozen = hub.server_pid("bob")
    os.kill(frozen, signal.SIGSTOP)  # bob's server stops answering; the others do not wait for it
    try:
        page.click("#glue-refresh")
        expect(bobs).to_have_attribute("data-state", "not answering")
        expect(bobs).to_contain_text("As last seen")
        expect(bobs.get_by_text("Bob's nightly data check")).to_be_visible()
        expect(page.locator('.glue-server[data-user="alice"][data-server=""]')).to_have_attribute("data-state", "running")
        shot(page, "admin")
    finally:
        os.kill(frozen, signal.SIGCONT)
    page.click("#glue-refresh")
    expect(bobs).to_have_attribute("data-state", "running")

    page.fill("#glue-filter", "nightly")
    expect(page.locator(".glue-server")).to_have_count(1)
    expect(page.get_by_text("Bob's nightly data check")).to_be_visible()
    shot(page, "admin-filtered")
