"""The agent's own session state in real JupyterLab (headless Chromium): mode and model pickers
in the panel's composer, the header menu and usage gauge of the session view, `/` commands in
the composer (lab view and notebook widget), and continuing a session begun elsewhere.
Screenshots in light, dark and at phone width go to test-artifacts/."""

from __future__ import annotations

import json

import nbformat
import pytest
from playwright.sync_api import Page, expect

from test_panel import open_session, send, show_panel, turn_ends
from test_widget import NOTEBOOK, cell, run_cell, wait_kernel_idle  # the helpers act on NOTEBOOK

pytestmark = pytest.mark.timeout(300)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(autouse=True)
def free_slots(lab_server):
    yield
    lab_server.stop_all()


def demo_has_run(lab_server) -> None:
    """The pickers show what the agent's latest session was offered: run the demo agent once."""
    s = lab_server.api("POST", "api/glue/sessions", {"agent": "demo", "cwd": ".", "title": "warm-up"}, expect=201)
    lab_server.api("POST", f"api/glue/sessions/{s['id']}/stop", {}, expect=200)


def new_session_form(pg: Page):
    panel = show_panel(pg)
    panel.locator('.jp-GlueSessionsPanel-toolbar [data-command="glue:new-session"]').click()  # "New"
    form = panel.locator("form.jp-GlueNew")
    expect(form).to_be_visible()
    expect(form.locator("select.jp-GlueNew-agent")).to_have_value("demo")
    return form


def options_button(view):
    return view.locator("button.jp-GlueAgentOptions-button")


def shoot_both_themes(pg: Page, set_theme, artifacts, name: str, target=None, prepare=None):
    for theme, tag in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        set_theme(pg, theme)
        expect(pg.locator("#jupyterlab-splash")).to_have_count(0)  # the theme change's splash is gone
        if prepare:
            prepare()
        (target or pg).screenshot(path=str(artifacts / f"{name}-{tag}.png"))
    set_theme(pg, "JupyterLab Light")


def test_pickers_header_menu_and_gauge(page, lab_server, open_lab, artifacts, set_theme):
    demo_has_run(lab_server)
    open_lab(page)
    form = new_session_form(page)
    mode = form.locator("select[data-option='mode']")
    model = form.locator("select[data-option='model']")
    expect(mode).to_be_visible()
    expect(mode.locator("option")).to_have_text(
        ["Agent's default", "Ask", "Plan", "Auto — refused by the permission policy"])
    expect(mode.locator("option[value='auto']")).to_be_disabled()
    mode.select_option("plan")
    model.select_option("demo-thorough")
    form.locator("textarea.jp-GlueNew-prompt").fill("write picked.txt")
    shoot_both_themes(page, set_theme, artifacts, "start-pickers", target=show_panel(page))
    form.get_by_role("button", name="Start").click()
    expect(form).to_be_hidden()

    view = page.locator("#jp-main-dock-panel .jp-GlueSessionView:visible")
    expect(options_button(view)).to_contain_text("Plan · Demo Thorough")
    expect(turn_ends(view, "end_turn")).to_have_count(1)
    assert not (lab_server.root_dir / "picked.txt").exists()  # plan mode: nothing written
    gauge = view.locator(".jp-GlueUsage")
    expect(gauge).to_contain_text("/ 1M")
    expect(gauge).to_contain_text("$")
    assert "Context:" in gauge.get_attribute("title")

    # The header menu: every option, the current ones marked, the refused mode disabled.
    options_button(view).click()
    menu = page.locator(".jp-GlueAgentMenu")
    expect(menu).to_be_visible()
    checked = menu.locator("[role='menuitemradio'][aria-checked='true'] .jp-GlueAgentMenu-name")
    expect(checked).to_have_text(["Plan", "Demo Thorough"])
    auto = menu.locator("[data-option='mode'][data-value='auto']")
    expect(auto).to_have_attribute("aria-disabled", "true")
    expect(auto).to_contain_text('needs the permission policy "allow"')
    expect(menu.locator("[role='menuitemcheckbox']")).to_have_attribute("aria-checked", "true")

    def reopen_menu():
        if not menu.is_visible():
            options_button(view).click()
        expect(menu).to_be_visible()

    shoot_both_themes(page, set_theme, artifacts, "session-options-menu", prepare=reopen_menu)
    reopen_menu()
    auto.click(force=True)  # refused: nothing happens
    expect(menu).to_be_visible()
    menu.locator("[data-option='mode'][data-value='ask']").click()
    expect(menu).to_be_hidden()
    expect(options_button(view)).to_contain_text("Ask · Demo Thorough")
    expect(view.locator(".jp-GlueItem[data-variant='config']").last).to_contain_text("Mode set to Ask (by you)")

    # Keyboard: ArrowDown opens, arrows move, Enter picks, Escape closes.
    options_button(view).focus()
    page.keyboard.press("ArrowDown")
    expect(menu).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(options_button(view)).to_be_focused()

    sid = view.get_attribute("data-session-id")
    session = lab_server.api("GET", f"api/glue/sessions/{sid}", expect=200)
    assert (session["mode"], session["model"]) == ("ask", "demo-thorough")
    assert page.glue_errors == []


def test_slash_commands_in_the_lab_composer(page, lab_server, open_lab, artifacts, set_theme):
    s = lab_server.api("POST", "api/glue/sessions", {"agent": "demo", "cwd": ".", "title": "Commands"}, expect=201)
    lab_server.wait_session(s["id"], lambda x: bool(x["commands"]))
    open_lab(page)
    view = open_session(page, s["id"])
    composer = view.locator("textarea.jp-GlueComposer-input")
    popup = view.locator(".jp-GlueSlash")
    composer.fill("")
    composer.type("/")
    expect(popup).to_be_visible()
    expect(popup.locator(".jp-GlueSlash-name")).to_have_text(["/recall", "/write", "/quick", "/switch"])
    expect(popup.locator(".jp-GlueSlash-item").nth(1)).to_contain_text("Write a file in the session folder")
    expect(popup.locator(".jp-GlueSlash-item").nth(1)).to_contain_text("file name")

    def retype():
        composer.fill("")
        composer.type("/")
        expect(popup).to_be_visible()

    shoot_both_themes(page, set_theme, artifacts, "slash-commands", target=view, prepare=retype)
    retype()
    composer.type("qu")
    expect(popup.locator(".jp-GlueSlash-name")).to_have_text(["/quick"])
    page.keyboard.press("Enter")  # takes the command, does not send
    expect(composer).to_have_value("/quick ")
    expect(popup).to_be_hidden()
    page.keyboard.press("Enter")  # now it sends
    expect(view.get_by_text("Quick answer from the glue demo agent").last).to_be_visible()

    composer.type("/re")
    expect(popup).to_be_visible()
    page.keyboard.press("Escape")
    expect(popup).to_be_hidden()
    expect(composer).to_have_value("/re")
    assert page.glue_errors == []


def test_phone_width(page, lab_server, open_lab, artifacts, set_theme):
    s = lab_server.api("POST", "api/glue/sessions",
                       {"agent": "demo", "cwd": ".", "title": "On a phone", "mode": "plan", "prompt": "quick"},
                       expect=201)
    lab_server.wait_session(s["id"], lambda x: x["state"] == "idle" and bool(x["usage"]) and bool(x["commands"]))
    page.set_viewport_size(PHONE)
    open_lab(page)
    view = open_session(page, s["id"])
    if page.locator("#glue-sessions-panel").is_visible():  # on a phone the side bar covers the view
        page.locator(".jp-SideBar .lm-TabBar-tab[data-id='glue-sessions-panel']").click()
    expect(options_button(view)).to_be_visible()
    expect(view.locator(".jp-GlueUsage")).to_be_visible()
    box = view.locator(".jp-GlueAgentSession").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    def open_menu():
        if not page.locator(".jp-GlueAgentMenu").is_visible():
            options_button(view).click()
        menu_box = page.locator(".jp-GlueAgentMenu").bounding_box()
        assert menu_box and menu_box["x"] >= 0 and menu_box["x"] + menu_box["width"] <= PHONE["width"]

    shoot_both_themes(page, set_theme, artifacts, "phone-options-menu", prepare=open_menu)
    page.keyboard.press("Escape")
    composer = view.locator("textarea.jp-GlueComposer-input")

    def slash():
        composer.fill("")
        composer.type("/")
        expect(view.locator(".jp-GlueSlash")).to_be_visible()

    shoot_both_themes(page, set_theme, artifacts, "phone-slash-commands", prepare=slash)
    page.set_viewport_size(DESKTOP)
    assert page.glue_errors == []


def test_continue_a_session_begun_elsewhere(page, lab_server, open_lab, artifacts):
    history = lab_server.data_dir / "demo-agent" / "begun-in-terminal.json"
    history.parent.mkdir(parents=True, exist_ok=True)
    history.write_text(json.dumps({"sessionId": "begun-in-terminal", "cwd": str(lab_server.root_dir.resolve()),
                                   "history": [{"role": "user", "text": "quick: sketch the plan"},
                                               {"role": "agent", "text": "Here is a sketch."}]}))
    open_lab(page)
    form = new_session_form(page)
    form.locator("summary.jp-GlueAdopt-summary").click()
    row = form.locator(".jp-GlueAdopt-row[data-agent-session='begun-in-terminal']")
    expect(row).to_contain_text("quick: sketch the plan")
    show_panel(page).screenshot(path=str(artifacts / "adopt-list-light.png"))
    row.get_by_role("button", name="Continue").click()
    view = page.locator("#jp-main-dock-panel .jp-GlueSessionView:visible")
    expect(view.locator(".jp-GlueSessionView-title")).to_have_text("quick: sketch the plan")
    expect(view.get_by_text("Here is a sketch.")).to_be_visible()
    expect(view.locator(".jp-GlueSessionView-meta")).to_contain_text("Idle")
    send(view, "recall")
    expect(view.locator(".jp-GlueMarkdown li").filter(has_text="quick: sketch the plan")).to_be_visible()
    # Listed again, it is marked as already in glue and opens that session.
    form = new_session_form(page)
    form.locator("summary.jp-GlueAdopt-summary").click()
    expect(form.locator(".jp-GlueAdopt-row[data-agent-session='begun-in-terminal']")).to_contain_text("already in glue")
    assert page.glue_errors == []


def test_widget_header_menu_gauge_and_slash(page, lab_server, open_lab, artifacts, set_theme):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "%load_ext glue_jupyter\n%glue start --agent demo --cwd . --mode plan --title Options quick")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, lab_server.root_dir / NOTEBOOK)
    open_lab(page, f"lab/tree/{NOTEBOOK}?reset")
    wait_kernel_idle(page)
    run_cell(page, 0)
    widget = cell(page, 0).locator(".jp-GlueWidget")
    view = widget.locator(".jp-GlueSessionView")
    expect(view).to_have_attribute("data-state", "idle")
    expect(options_button(widget)).to_contain_text("Plan · Demo Fast")
    expect(widget.locator(".jp-GlueUsage")).to_contain_text("/ 128k")

    options_button(widget).click()
    menu = page.locator(".jp-GlueAgentMenu")
    expect(menu).to_be_visible()
    menu.locator("[data-option='model'][data-value='demo-thorough']").click()
    expect(options_button(widget)).to_contain_text("Plan · Demo Thorough")

    composer = widget.locator("textarea.jp-GlueComposer-input")
    composer.click()
    composer.type("/sw")
    popup = widget.locator(".jp-GlueSlash")
    expect(popup.locator(".jp-GlueSlash-name")).to_have_text(["/switch"])

    def slash():
        composer.fill("")
        composer.type("/")
        expect(popup).to_be_visible()

    shoot_both_themes(page, set_theme, artifacts, "widget-options", target=widget, prepare=slash)
    composer.fill("")
    composer.type("/sw")
    page.keyboard.press("Tab")
    composer.type("ask")
    page.keyboard.press("Enter")
    expect(options_button(widget)).to_contain_text("Ask · Demo Thorough")  # the agent switched itself
    expect(widget.locator(".jp-GlueItem[data-variant='config']").last).to_contain_text("by the agent")
    assert page.glue_errors == []
