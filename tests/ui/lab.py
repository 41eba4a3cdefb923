"""What a user does in JupyterLab with agent sessions, as helpers the browser tests share.

Waits are on what the user sees (Playwright's expect), never on fixed sleeps.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Locator, Page, expect

PANEL = "#glue-sessions-panel"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}


def show_panel(pg: Page) -> Locator:
    """Show the side panel, once it has the server's list (signals start from there)."""
    panel = pg.locator(PANEL)
    if not panel.is_visible():
        pg.locator('.jp-SideBar .lm-TabBar-tab[data-id="glue-sessions-panel"]').click()
    expect(panel).to_be_visible()
    expect(panel.locator(".jp-GlueSessionsPanel-empty")).not_to_contain_text("Loading sessions")
    return panel


def show_file_browser(pg: Page) -> Locator:
    browser = pg.locator("#filebrowser")
    if not browser.is_visible():
        pg.locator('.jp-SideBar .lm-TabBar-tab[data-id="filebrowser"]').click()
    expect(browser).to_be_visible()
    return browser


def panel_button(pg: Page, command: str) -> Locator:
    """A button of the side panel's toolbar, by command (glue:new-session, glue:stop-all…)."""
    return pg.locator(f'{PANEL} .jp-GlueSessionsPanel-toolbar [data-command="{command}"]')


def start_from_composer(pg: Page, prompt: str, title: str | None = None) -> Locator:
    """Start a session with the panel's composer; return the session view that opens."""
    panel = show_panel(pg)
    panel_button(pg, "glue:new-session").click()
    form = panel.locator("form.jp-GlueNew")
    expect(form).to_be_visible()
    expect(form.locator("select.jp-GlueNew-agent")).to_have_value("demo")
    if title:
        form.locator("input.jp-GlueNew-title").fill(title)
    form.locator("textarea.jp-GlueNew-prompt").fill(prompt)
    form.get_by_role("button", name="Start").click()
    expect(form).to_be_hidden()
    view = pg.locator("#jp-main-dock-panel .jp-GlueSessionView:visible")
    expect(view).to_have_count(1)
    expect(view).to_have_attribute("data-session-id", re.compile(r"\w+"))
    return view


def row(pg: Page, session_id: str) -> Locator:
    return pg.locator(f'{PANEL} .jp-GlueSessionList-item[data-session-id="{session_id}"]')


def open_session(pg: Page, session_id: str) -> Locator:
    show_panel(pg)
    row(pg, session_id).click()
    view = pg.locator(f'#jp-main-dock-panel .jp-GlueSessionView[data-session-id="{session_id}"]')
    expect(view).to_be_visible()
    return view


def view_of(pg: Page, session_id: str) -> Locator:
    return pg.locator(f'#jp-main-dock-panel .jp-GlueSessionView[data-session-id="{session_id}"]')


def header_dot(view: Locator) -> Locator:
    return view.locator(".jp-GlueSessionView-header > .jp-GlueDot")


def row_of(pg: Page, view: Locator) -> Locator:
    return row(pg, view.get_attribute("data-session-id"))


def tab_of(pg: Page, session_id: str) -> Locator:
    """The session's tab in the main area's tab bar."""
    return pg.locator(f'#jp-main-dock-panel .lm-TabBar-tab[data-id="glue-session-{session_id}"]')


def button(view: Locator, name: str) -> Locator:
    """A control of a session tab: JupyterLab's toolbar button above the view."""
    sid = view.get_attribute("data-session-id")
    widget = view.page.locator(f'.jp-GlueSessionWidget:has(.jp-GlueSessionView[data-session-id="{sid}"])')
    return widget.locator(f'.jp-Toolbar [data-command="glue:{name.lower()}-session"]')


def expect_enabled(b: Locator, enabled: bool) -> None:
    expect(b).to_have_attribute("aria-disabled", "false" if enabled else "true")


def expect_controls(view: Locator, enabled: set[str]) -> None:
    for name in ("interrupt", "pause", "stop", "resume"):
        expect_enabled(button(view, name), name in enabled)


def send(view: Locator, text: str) -> None:
    view.locator("textarea.jp-GlueComposer-input").fill(text)
    view.locator("button.jp-GlueComposer-send").click()


def turn_ends(view: Locator, reason: str | None = None) -> Locator:
    sel = ".jp-GlueItem-turn_end"
    if reason:
        sel += f'[data-stop-reason="{reason}"]'
    return view.locator(sel)


def option(request: Locator, kind: str) -> Locator:
    """A permission request's answer button, by the option's kind (allow_once, reject_once…)."""
    return request.locator(f'button[data-kind="{kind}"]')


def command(pg: Page, command_id: str, args: dict | None = None):
    """Run a JupyterLab command as the palette or a shortcut would."""
    pg.evaluate("async ([id, args]) => { await window.jupyterapp.commands.execute(id, args); }", [command_id, args or {}])


def theme(pg: Page, name: str) -> None:
    pg.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", name)
    expect(pg.locator("body")).to_have_attribute("data-jp-theme-name", name)
    expect(pg.locator("#jupyterlab-splash")).to_have_count(0)  # the theme's splash is gone


def full_width(pg: Page) -> None:
    """Fold the side panel away, as opening a session does on a phone-sized window."""
    pg.evaluate("() => window.jupyterapp.shell.collapseLeft()")


def shots(pg: Page, artifacts: Path, name: str, target: Locator | None = None, phone=None,
          prepare=None) -> list[str]:
    """Screenshots of what the page shows now, in light, dark and phone width (390×844).

    `target`: only that element (light and dark); `prepare(pg)`: what to do again before each
    picture (a menu closes when the theme changes); `phone(pg)`: what a user does at phone width
    before looking (e.g. fold the side panel away). Returns the file names, for the note.
    """
    names = []
    for label in ("light", "dark"):
        theme(pg, "JupyterLab Light" if label == "light" else "JupyterLab Dark")
        if prepare:
            prepare(pg)
        path = artifacts / f"{name}-{label}.png"
        # Animations fast-forwarded: a toast caught sliding in is cut off at the edge.
        (target or pg).screenshot(path=str(path), animations="disabled")
        names.append(path.name)
    theme(pg, "JupyterLab Light")
    size = pg.viewport_size
    pg.set_viewport_size(PHONE)
    try:
        if phone:
            phone(pg)
        if prepare:
            prepare(pg)
        path = artifacts / f"{name}-phone.png"
        pg.screenshot(path=str(path), animations="disabled")
        names.append(path.name)
    finally:
        pg.set_viewport_size(size)
    return names


# A background tab, as Chromium treats one. Headless Chromium never hides a page (Playwright:
# "all pages behave as if they are active foreground tabs"), so this init script lets a test put
# the page in the background the way the browser would: `document.visibilityState` "hidden" and a
# `visibilitychange` event, no animation frames until it is shown again, and timers held to at
# least one second (Chromium's budget for hidden pages). WebSocket messages still arrive at once,
# as they do in a real background tab.
BACKGROUND_TAB = """(() => {
  let hidden = false;
  const raf = window.requestAnimationFrame.bind(window);
  const setT = window.setTimeout.bind(window);
  const waiting = [];
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => hidden ? 'hidden' : 'visible' });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  window.requestAnimationFrame = cb => { if (!hidden) return raf(cb); waiting.push(cb); return 0; };
  window.setTimeout = (fn, ms, ...rest) => setT(fn, hidden ? Math.max(1000, ms || 0) : ms, ...rest);
  window.__glueBackground = (value) => {
    hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
    if (!hidden) { waiting.splice(0).forEach(cb => raf(cb)); }
  };
})()"""

# The browser's Notification, recorded (title, body, tag and when) and already allowed, as after
# the user said yes to the browser's own prompt.
RECORD_NOTIFICATIONS = """(() => {
  window.__glueNotified = [];
  class Recorded {
    static permission = 'granted';
    static requestPermission() { window.__glueAsked = (window.__glueAsked || 0) + 1; return Promise.resolve('granted'); }
    constructor(title, options = {}) {
      Object.assign(this, { title, body: options.body, tag: options.tag, at: Date.now() });
      this.closed = false;
      window.__glueNotified.push(this);
    }
    close() { this.closed = true; }
  }
  window.Notification = Recorded;
})()"""


def user_settings(server, plugin: str, raw: dict | None):
    """Write (or, with None, reset) a plugin's user settings on the server."""
    import json

    server.api("PUT", f"lab/api/settings/{plugin}", {"raw": json.dumps(raw or {})}, expect=204)


@pytest.fixture(autouse=True)
def free_slots(lab_server):
    """Stop each test's sessions after it (the lab server is shared: slots are few); a module
    that imports it has it for every test."""
    yield
    lab_server.stop_all()


def start_session(server, prompt: str, title: str, agent: str = "demo", wait: str | None = None) -> dict:
    """Start a session through the HTTP API; with `wait`, until it reached that state after a turn."""
    s = server.api("POST", "api/glue/sessions", {"agent": agent, "cwd": ".", "title": title, "prompt": prompt},
                   expect=201)
    if wait:
        server.wait_session(s["id"], lambda x: x["state"] == wait and x["turns"] >= 1)
    return s


def open_notebook(pg: Page, open_lab, server, name: str, *sources: str) -> None:
    """Write a notebook of code cells, open it alone and wait for its kernel to be idle."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, server.root_dir / name)
    open_lab(pg, f"lab/tree/{name}?reset")
    pg.wait_for_function("""(path) => { const p = [...window.jupyterapp.shell.widgets('main')]
        .find(w => w.context?.path === path); return p && p.sessionContext.isReady
        && p.sessionContext.session?.kernel?.status === 'idle'; }""", arg=name, timeout=60_000)
