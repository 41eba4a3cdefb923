"""The transcript as good as the best agent apps: highlighted code with copy buttons, per-turn
times, file paths that open in JupyterLab at their line, find (Ctrl+F) with highlights, search
results with a snippet that open at the match, permission requests that show what will happen,
shortcuts in JupyterLab's settings, JupyterLab's toolbars and selects, the launcher card and
"Start Agent Here" in the file browser.
"""

from __future__ import annotations

import functools
import re

import pytest
from lab import (DESKTOP, PANEL, command, free_slots, full_width, open_session, option, row, send, shots,
                 show_file_browser, show_panel, start_session, tab_of, theme, turn_ends, view_of)  # noqa: F401
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def clipboard_page(browser, lab_server):
    context = browser.new_context(viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab_server.url.rstrip("/"))
    pg = context.new_page()
    yield pg
    context.close()


start = functools.partial(start_session, wait="idle")


def clipboard(pg: Page) -> str:
    return pg.evaluate("() => navigator.clipboard.readText()")


def test_code_blocks_are_highlighted_copyable_and_turns_have_times(clipboard_page, lab_server, open_lab, artifacts):
    pg = clipboard_page
    s = start(lab_server, "snippet please", "Code block")
    open_lab(pg)
    view = open_session(pg, s["id"])
    block = view.locator(".jp-GlueItem-message .jp-GlueCode[data-language='python']")
    expect(block).to_be_visible()
    code = block.locator("pre code")
    expect(code).to_have_text('print("hello from the glue demo agent")')
    # JupyterLab's own CodeMirror highlighting: tokens in spans, coloured by the theme.
    colours = code.evaluate("""c => {
        const plain = getComputedStyle(c).color;
        return [...c.querySelectorAll('span')].map(s => getComputedStyle(s).color).filter(x => x !== plain);
    }""")
    assert colours, "the code is not highlighted"
    block.hover()
    block.locator("button.jp-GlueCopy").click()
    expect(block.locator("button.jp-GlueCopy")).to_have_attribute("title", "Copied")
    assert clipboard(pg) == 'print("hello from the glue demo agent")'
    # A copy button on each message: the reply's Markdown, as written.
    message = view.locator(".jp-GlueItem-message").last
    message.hover()
    message.locator(".jp-GlueItem-tools button.jp-GlueCopy").click()
    assert clipboard(pg).startswith("Here is something to try in a cell:\n\n```python\n")
    # Each turn says when: its message and its end.
    expect(view.locator(".jp-GlueItem-user .jp-GlueItem-time")).to_have_text(re.compile(r"\d{1,2}:\d{2}"))
    expect(turn_ends(view).locator(".jp-GlueItem-time")).to_have_text(re.compile(r"\d{1,2}:\d{2}"))
    block.hover()
    shots(pg, artifacts, "transcript-code-block", target=view, phone=full_width)


def test_file_paths_open_in_jupyterlab_at_the_line(page, lab_server, open_lab, artifacts):
    (lab_server.root_dir / "paths.md").write_text("# Paths\nsecond line\n")
    s = start(lab_server, "write paths.md", "Open at the line", wait=None)
    lab_server.wait_session(s["id"], lambda x: x["pending_permissions"] == 1)
    open_lab(page)
    view = open_session(page, s["id"])
    option(view.locator(".jp-GlueItem-permission"), "allow_once").click()
    expect(turn_ends(view, "end_turn")).to_have_count(1)
    # In the reply (`paths.md:3`), in the tool call (its location) and under "Files touched".
    link = view.locator(".jp-GlueItem-message a.jp-GlueFileLink", has_text="paths.md:3")
    expect(link).to_have_attribute("data-line", "3")
    expect(view.locator(".jp-GlueItem-tool a.jp-GlueFileLink", has_text="paths.md:3")).to_have_count(1)
    expect(view.locator(".jp-GlueTurnEnd-files a.jp-GlueFileLink", has_text="paths.md")).to_have_count(1)
    shots(page, artifacts, "transcript-file-links", target=view, phone=full_width)
    link.click()
    editor = page.locator("#jp-main-dock-panel .jp-FileEditor:visible")
    expect(editor).to_be_visible()
    expect(page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")).to_contain_text("paths.md")
    # The editor goes to the line once the file is loaded: the third line, the one written.
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.editor.getCursorPosition().line === 2")
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content.editor.getLine(2)") \
        == "Written by the glue demo agent."


def test_find_in_the_transcript(page, lab_server, open_lab, artifacts):
    s = start(lab_server, "look around", "Find me")
    lab_server.api("POST", f"api/glue/sessions/{s['id']}/prompt", {"text": "and again"}, expect=200)
    lab_server.wait_session(s["id"], lambda x: x["state"] == "idle" and x["turns"] == 2)
    open_lab(page)
    view = open_session(page, s["id"])
    expect(turn_ends(view)).to_have_count(2)
    view.locator(".jp-GlueComposer-input").press("Control+f")
    bar = view.locator(".jp-GlueFind")
    expect(bar).to_be_visible()
    expect(bar.locator("input")).to_be_focused()
    # Find starts at the first match on screen: from the top, that is the first of all (each turn's
    # Changes card makes two turns taller than the view, which opens at the end).
    view.locator(".jp-GlueTranscript").evaluate("el => { el.scrollTop = 0; }")
    bar.locator("input").fill("hello from the glue demo agent")
    # In both turns: the echo tool's output (folded away until found) and the reply.
    count = bar.locator(".jp-GlueFind-count")
    expect(count).to_have_text(re.compile(r"^1 of \d+$"))
    total = int(count.inner_text().split(" of ")[1])
    assert page.evaluate("() => CSS.highlights.get('glue-find').size + CSS.highlights.get('glue-find-current').size") \
        == total
    current = view.locator(".jp-GlueItem.jp-mod-findCurrent")
    expect(current).to_have_count(1)
    expect(view.locator(".jp-GlueItem-tool details[open]")).not_to_have_count(0)  # opened to show the match
    bar.locator("input").press("Enter")
    expect(count).to_have_text(f"2 of {total}")
    bar.locator("input").press("Shift+Enter")
    expect(count).to_have_text(f"1 of {total}")
    bar.locator("input").press("Shift+Enter")
    expect(count).to_have_text(f"{total} of {total}")  # round the end
    shots(page, artifacts, "transcript-find", target=view, phone=full_width)
    bar.locator("input").fill("no such words anywhere")
    expect(count).to_have_text("No matches")
    bar.locator("input").press("Escape")
    expect(bar).to_be_hidden()
    assert page.evaluate("() => CSS.highlights.get('glue-find').size + CSS.highlights.get('glue-find-current').size") == 0


# The contrast ratio (WCAG) of an element's text colour against its own opaque background.
CONTRAST = """(el) => {
    const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const s = getComputedStyle(el);
    const [a, b] = [lum(s.color), lum(s.backgroundColor)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
}"""


def test_search_results_show_a_snippet_and_open_at_the_match(page, lab_server, open_lab, artifacts):
    target = start(lab_server, "quick, remember the okapi9131 in the garden", "Animals")
    start(lab_server, "quick, nothing to see", "Nothing")
    lab_server.api("POST", f"api/glue/sessions/{target['id']}/prompt", {"text": "look around the house"}, expect=200)
    lab_server.wait_session(target["id"], lambda x: x["state"] == "idle" and x["turns"] == 2)
    open_lab(page)
    panel = show_panel(page)
    panel.locator("input.jp-GlueSessionsPanel-search").press_sequentially("okapi9131", delay=20)
    hit = row(page, target["id"])
    snippet = hit.locator(".jp-GlueSessionList-snippet")
    expect(snippet).to_contain_text("You: quick, remember the okapi9131 in the garden")
    expect(snippet.locator("mark")).to_have_text("okapi9131")
    for theme_name in ("JupyterLab Light", "JupyterLab Dark"):  # the matched word stays readable
        theme(page, theme_name)
        assert snippet.locator("mark").evaluate(CONTRAST) >= 3, theme_name
    expect(panel.locator(".jp-GlueSessionList-item")).to_have_count(1)
    shots(page, artifacts, "search-snippet", target=panel)
    hit.click()
    view = view_of(page, target["id"])
    bar = view.locator(".jp-GlueFind")
    expect(bar.locator("input")).to_have_value("okapi9131")
    current = view.locator(".jp-GlueItem.jp-mod-findCurrent")
    expect(current).to_have_class(re.compile("jp-GlueItem-user"))
    expect(current).to_contain_text("okapi9131")
    expect(current).to_be_in_viewport()


def test_a_request_that_names_only_its_files_shows_them(page, lab_server, open_lab, artifacts):
    """Codex's adapter asks about a file change before describing the tool call, naming only the
    paths: the card names the file before Allow; the diff shows in the tool call once it comes."""
    s = start(lab_server, "write codex-style.md, paths only", "Paths only", wait=None)
    lab_server.wait_session(s["id"], lambda x: x["pending_permissions"] == 1)
    open_lab(page)
    view = open_session(page, s["id"])
    card = view.locator(".jp-GlueItem-permission")
    expect(card.locator(".jp-GluePermission-files")).to_have_text("File codex-style.md")
    shots(page, artifacts, "permission-paths-only", target=view, phone=full_width)
    option(card, "allow_once").click()
    expect(view).to_have_attribute("data-state", "idle")
    assert (lab_server.root_dir / "codex-style.md").exists()
    expect(view.locator(".jp-GlueItem-tool .jp-GlueDiff-path")).to_contain_text("codex-style.md")


def test_permission_requests_show_what_will_happen(page, lab_server, open_lab, artifacts):
    (lab_server.root_dir / "existing.md").write_text("# Existing\nfirst line\n")
    edit = start(lab_server, "write existing.md", "Edit a file", wait=None)
    new = start(lab_server, "write brand-new.py", "New file", wait=None)
    run = start(lab_server, "execute a listing", "Run a command", wait=None)
    for s in (edit, new, run):
        lab_server.wait_session(s["id"], lambda x: x["pending_permissions"] == 1)
    open_lab(page)

    view = open_session(page, edit["id"])
    card = view.locator(".jp-GlueItem-permission")
    expect(card.locator(".jp-GlueDiff-path")).to_contain_text("Edit existing.md")
    expect(card.locator(".jp-GlueDiff-stat")).to_have_text("+1 −0")
    lines = card.locator(".jp-GlueDiff-line")
    expect(lines).to_have_text(["  # Existing", "  first line", "+ Written by the glue demo agent."])
    expect(card.locator("button[data-option-id]")).to_have_text(["Allow", "Always allow", "Deny"])
    expect(card).not_to_contain_text("raw_input")
    shots(page, artifacts, "permission-edit-diff", target=view, phone=full_width)

    view = open_session(page, new["id"])
    card = view.locator(".jp-GlueItem-permission")
    expect(card.locator(".jp-GlueDiff-path")).to_contain_text("New file brand-new.py")
    block = card.locator(".jp-GlueCode[data-language='python']")
    expect(block.locator("code")).to_have_text("Written by the glue demo agent.")
    # A preview of what the agent asks to write: Copy, but nothing that runs or inserts it.
    expect(block.locator(".jp-GlueCodeActions button")).to_have_count(1)
    expect(block.locator(".jp-GlueCodeActions button[data-action='copy']")).to_be_visible()
    shots(page, artifacts, "permission-new-file", target=view, phone=full_width)

    view = open_session(page, run["id"])
    card = view.locator(".jp-GlueItem-permission")
    expect(card.locator(".jp-GlueCommand-where")).to_contain_text(f"Run in {lab_server.root_dir}")
    expect(card.locator(".jp-GlueCode[data-language='shell'] code")).to_have_text("ls -la")
    shots(page, artifacts, "permission-execute", target=view, phone=full_width)

    # Every option the agent offers works: "Always allow" is not asked again this session.
    option(card, "allow_always").click()
    expect(turn_ends(view, "end_turn")).to_have_count(1)
    expect(view.locator(".jp-GlueItem-tool").last).to_contain_text("existing.md")
    send(view, "execute it once more")
    expect(turn_ends(view, "end_turn")).to_have_count(2)
    expect(view.locator(".jp-GlueItem-permission")).to_have_count(1)


def test_shortcuts_are_in_jupyterlabs_settings_and_work(page, lab_server, open_lab, artifacts):
    s = start(lab_server, "sleep for a while", "Shortcuts", wait="running")
    done = start(lab_server, "quick", "Needs a look")
    open_lab(page)
    bindings = page.evaluate("""() => window.jupyterapp.commands.keyBindings
        .filter(b => b.command.startsWith('glue:')).map(b => [b.command, b.keys.join(' '), b.selector])""")
    assert ["glue:interrupt-session", "Escape", ".jp-GlueSessionPanel"] in bindings
    assert ["glue:focus-composer", "Alt M", ".jp-GlueSessionPanel"] in bindings
    assert ["glue:find-in-session", "Ctrl F", ".jp-GlueSessionPanel"] in bindings  # Accel, on Linux
    assert ["glue:new-session", "Alt N", "body"] in bindings
    assert ["glue:next-needing-you", "Alt J", "body"] in bindings
    # Listed (and editable) in Settings → Keyboard Shortcuts, with their labels.
    command(page, "settingeditor:open", {"query": "Keyboard Shortcuts"})
    shortcuts = page.locator("#jp-main-dock-panel .jp-SettingsPanel:visible")
    expect(shortcuts).to_contain_text("Keyboard Shortcuts")
    shortcuts.get_by_placeholder("Search…").last.fill("Agent Session")
    for label in ("Interrupt Agent Session", "New Agent Session…", "Next Agent Session Needing You",
                  "Focus Agent Session Message Box", "Find in Agent Session"):
        expect(shortcuts.get_by_text(label, exact=True).first).to_be_visible()
    shots(page, artifacts, "shortcuts-settings")
    page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").click()

    # They work: Alt+J opens the session that needs you; in a running one, Alt+M focuses the
    # message box and Escape interrupts it; Alt+N opens the new-session form.
    page.keyboard.press("Alt+j")
    expect(view_of(page, done["id"])).to_be_visible()
    view = open_session(page, s["id"])
    view.locator(".jp-GlueTranscript").click()
    page.keyboard.press("Alt+m")
    expect(view.locator(".jp-GlueComposer-input")).to_be_focused()
    page.keyboard.press("Escape")
    expect(turn_ends(view, "cancelled")).to_have_count(1)
    page.keyboard.press("Alt+n")
    expect(page.locator(f"{PANEL} form.jp-GlueNew")).to_be_visible()


def test_jupyterlab_toolbars_icons_and_styled_selects(page, lab_server, open_lab, artifacts):
    s = start(lab_server, "quick", "Toolbar")
    open_lab(page)
    panel = show_panel(page)
    for select in ("stateFilter", "agentFilter", "sort", "group"):
        box = panel.locator(f"select.jp-GlueSessionsPanel-{select}").locator("xpath=..")
        expect(box).to_have_class(re.compile(r"\bjp-HTMLSelect\b.*\bjp-DefaultStyle\b"))
        expect(box.locator("svg")).to_have_count(1)  # JupyterLab's caret
    for cmd in ("glue:new-session", "glue:pause-all", "glue:stop-all"):
        expect(panel.locator(f'jp-button[data-command="{cmd}"] svg')).to_have_count(1)
    view = open_session(page, s["id"])
    toolbar = page.locator(".jp-GlueSessionWidget:visible > .jp-Toolbar")
    for name, label in (("interrupt", "Interrupt"), ("pause", "Pause"), ("stop", "Stop"), ("resume", "Resume"),
                        ("find", "Find"), ("rename", "Rename…")):
        item = toolbar.locator(f'[data-jp-item-name="{name}"]')
        expect(item.locator("svg")).to_have_count(1)
        expect(item).to_contain_text(label)
    shots(page, artifacts, "lab-toolbars", phone=full_width)
    expect(tab_of(page, s["id"])).to_be_visible()
    expect(view).to_be_visible()


def test_launcher_card_and_start_agent_here(page, lab_server, open_lab, artifacts):
    for folder in ("project-b", "project-c"):
        (lab_server.root_dir / folder).mkdir(exist_ok=True)
    open_lab(page)
    # The launcher's card starts in the folder the launcher was opened in.
    show_file_browser(page)
    page.locator('.jp-DirListing-item[title^="Name: project-b"]').dblclick()
    expect(page.locator(".jp-BreadCrumbs")).to_contain_text("project-b")
    command(page, "launcher:create")
    card = page.locator(".jp-Launcher:visible .jp-LauncherCard", has_text="Agent Session")
    expect(card).to_be_visible()
    shots(page, artifacts, "launcher-card")
    card.click()
    form = page.locator(f"{PANEL} form.jp-GlueNew")
    expect(form).to_be_visible()
    expect(form.locator("input.jp-GlueNew-folder")).to_have_value("project-b")
    form.get_by_role("button", name="Cancel").click()

    # The file browser: right-click a folder, "Start Agent Here…".
    show_file_browser(page)
    page.locator(".jp-BreadCrumbs-home").click()
    menu = page.locator(".lm-Menu")

    def right_click(pg):
        pg.keyboard.press("Escape")
        show_file_browser(pg)
        pg.locator('.jp-DirListing-item[title^="Name: project-c"]').click(button="right")
        expect(menu.get_by_text("Start Agent Here…")).to_be_visible()

    shots(page, artifacts, "file-browser-start-here", prepare=right_click)
    right_click(page)
    menu.get_by_text("Start Agent Here…").click()
    expect(form).to_be_visible()
    expect(form.locator("input.jp-GlueNew-folder")).to_have_value("project-c")
    form.locator("textarea.jp-GlueNew-prompt").fill("quick")
    form.get_by_role("button", name="Start").click()
    view = page.locator("#jp-main-dock-panel .jp-GlueSessionView:visible")
    expect(view.locator(".jp-GlueSessionView-cwd")).to_have_text("/project-c")
