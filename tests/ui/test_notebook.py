"""Notebooks and agent sessions in real JupyterLab (headless Chromium): code from a reply goes
into cells (from the notebook widget below its own cell, even while the kernel is busy; from a
session view below the current notebook's active cell), error outputs get "Ask the agent to
fix", and open documents follow what the agent wrote (reloaded when clean; when dirty the user
is told and chooses, and JupyterLab's "File Changed" dialog never shows). Screenshots in light,
dark and phone width go to test-artifacts/notebook-*.png."""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from playwright.sync_api import Page, expect

from conftest import start_lab, stop_lab
from test_panel import show_panel
from test_widget import FIND_PANEL, run_cell, wait_kernel_idle

pytestmark = pytest.mark.timeout(300)

DEMO_LINE = "Written by the glue demo agent."


@pytest.fixture(autouse=True)
def free_slots(lab_server):
    lab_server.stop_all()
    yield
    lab_server.stop_all()


def write_notebook(root, name: str, *sources: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / name)


def cells(pg: Page, name: str):
    return pg.locator(f"#jp-main-dock-panel .jp-NotebookPanel[data-glue-path='{name}'] .jp-Cell")


LOCAL_PANEL = """[...window.jupyterapp.shell.widgets('main')].find(w => w.context &&
    window.jupyterapp.serviceManager.contents.localPath(w.context.path) === path)"""


def tag_panels(pg: Page) -> None:
    """Mark each notebook panel with its path (without a drive prefix such as "RTC:"), so
    locators can tell notebooks apart."""
    pg.wait_for_function("() => [...window.jupyterapp.shell.widgets('main')].some(w => w.context)")
    pg.evaluate("""() => { const contents = window.jupyterapp.serviceManager.contents;
        for (const w of window.jupyterapp.shell.widgets('main')) {
            if (w.context && w.node.classList.contains('jp-NotebookPanel'))
                w.node.dataset.gluePath = contents.localPath(w.context.path); } }""")


def open_notebook(pg: Page, open_lab, name: str):
    open_lab(pg, f"lab/tree/{name}?reset")
    wait_kernel_idle(pg, name)
    tag_panels(pg)
    return cells(pg, name)


def sources(pg: Page, name: str) -> list[str]:
    return pg.evaluate(f"""(path) => {{ const panel = {FIND_PANEL};
        return panel.content.widgets.map(c => c.model.sharedModel.getSource()); }}""", name)


def answer_permission(lab_server, sid: str, option: str = "allow") -> None:
    lab_server.wait_session(sid, lambda s: s["pending_permissions"] > 0)
    events = lab_server.api("GET", f"api/glue/sessions/{sid}/events", expect=200)["events"]
    request = [e for e in events if e["kind"] == "permission_request"][-1]["data"]["request_id"]
    lab_server.api("POST", f"api/glue/sessions/{sid}/permissions/{request}", {"option_id": option}, expect=200)


def own_errors(pg: Page) -> list[str]:
    """Page errors and our console output (not JupyterLab's warnings of slow plugins)."""
    return [e for e in pg.glue_errors if e.startswith("pageerror") or "glue" in e.lower()]


def test_code_from_replies_goes_into_cells(page: Page, lab_server, open_lab, shoot_light_dark_phone):
    shoot = shoot_light_dark_phone
    name = "insert_story.ipynb"
    write_notebook(lab_server.root_dir, name,
                   "%load_ext glue_jupyter\n%glue start --agent demo --cwd . --title Snippets snippet please",
                   "import time\ntime.sleep(60)")
    nb_cells = open_notebook(page, open_lab, name)
    run_cell(page, 0, name)
    widget = nb_cells.nth(0).locator(".jp-GlueWidget")
    actions = widget.locator(".jp-GlueCodeActions")
    expect(actions.locator("button[data-action='insert']")).to_be_visible()
    expect(actions.locator("button[data-action='insert-run']")).to_be_visible()
    expect(actions.locator("button[data-action='copy']")).to_be_visible()
    shoot(page, widget, "notebook-widget-code-actions")

    # The kernel sleeps; the widget inserts below its own cell without it.
    run_cell(page, 1, name)
    busy = nb_cells.nth(1).locator(".jp-InputArea-prompt")
    expect(busy).to_have_text("[*]:")
    actions.locator("button[data-action='insert']").click()
    expect(nb_cells).to_have_count(3)
    assert sources(page, name)[1] == 'print("hello from the glue demo agent")'
    expect(nb_cells.nth(2).locator(".jp-InputArea-prompt")).to_have_text("[*]:")  # still the same sleep
    expect(actions.locator(".jp-GlueCodeActions-status")).to_have_text("Inserted")
    page.evaluate("() => window.jupyterapp.commands.execute('kernelmenu:interrupt')")
    wait_kernel_idle(page, name)

    actions.locator("button[data-action='insert-run']").click()
    expect(nb_cells).to_have_count(4)
    expect(nb_cells.nth(1).locator(".jp-OutputArea-output")).to_contain_text("hello from the glue demo agent")

    # A session view in the main area inserts below the active cell of the current notebook.
    sid = widget.locator(".jp-GlueSessionView").get_attribute("data-session-id")
    page.evaluate("([i, path]) => { const panel = " + FIND_PANEL + "; panel.content.activeCellIndex = i; }",
                  [3, name])
    page.evaluate("(id) => window.jupyterapp.commands.execute('glue:open-session', {id})", sid)
    view = page.locator(f"#jp-main-dock-panel .jp-GlueSessionView[data-session-id='{sid}']").last
    expect(view).to_be_visible()
    view_actions = view.locator(".jp-GlueCodeActions")
    expect(view_actions.locator("button[data-action='insert']")).to_have_attribute(
        "title", "Insert this code below the active cell of the current notebook")
    shoot(page, view.locator(".jp-GlueItem-message").last, "notebook-view-code-actions")
    view_actions.locator("button[data-action='insert']").click()
    expect(view_actions.locator(".jp-GlueCodeActions-status")).to_have_text("Inserted")
    assert len(sources(page, name)) == 5 and sources(page, name)[4] == 'print("hello from the glue demo agent")'
    assert own_errors(page) == []


def test_an_error_output_asks_the_notebooks_session_for_a_fix(page: Page, lab_server, open_lab,
                                                              shoot_light_dark_phone):
    shoot = shoot_light_dark_phone
    name = "fix_story.ipynb"
    write_notebook(lab_server.root_dir, name, "total = 41 + 1\nprint(totl)")
    nb_cells = open_notebook(page, open_lab, name)
    run_cell(page, 0, name)
    error = nb_cells.nth(0).locator(".jp-OutputArea-child:has(.jp-GlueFixButton)")
    expect(error).to_contain_text("NameError")
    fix = error.get_by_role("button", name="Ask the agent to fix")
    shoot(page, nb_cells.nth(0), "notebook-error-fix-button")
    fix.click()

    view = page.locator("#jp-main-dock-panel .jp-GlueSessionView:visible")
    expect(view).to_have_count(1)
    expect(view.locator(".jp-GlueItem-message").last).to_contain_text("did you mean total?")
    chips = view.locator(".jp-GlueItem-user .jp-GlueChip")
    expect(chips).to_have_count(3)
    expect(chips.nth(0)).to_contain_text("In[1]")
    chips.nth(1).locator("summary").click()  # the traceback, exactly as sent
    expect(chips.nth(1).locator(".jp-GlueChip-text")).to_contain_text("NameError: name 'totl' is not defined")
    expect(view).to_have_attribute("data-state", "idle")
    shoot(page, view, "notebook-fix-session-view")
    sid = view.get_attribute("data-session-id")
    session = lab_server.api("GET", f"api/glue/sessions/{sid}", expect=200)
    assert session["notebook"] == str((lab_server.root_dir / name).resolve())
    (message,) = [e["data"] for e in lab_server.api("GET", f"api/glue/sessions/{sid}/events")["events"]
                  if e["kind"] == "user_message"]
    assert message["text"] == "Fix the error that In[1] raised: NameError: name 'totl' is not defined"
    assert message["context"][0]["text"] == "total = 41 + 1\nprint(totl)"

    # The side panel groups sessions by the notebook they were started from.
    panel = show_panel(page)
    panel.locator("select.jp-GlueSessionsPanel-group").select_option("notebook")
    group = panel.locator(".jp-GlueSessionList-group").filter(has_text=name)
    expect(group).to_be_visible()
    expect(panel.locator(f".jp-GlueSessionList-item[data-session-id='{sid}']")).to_be_visible()
    shoot(page, panel, "notebook-panel-grouped-by-notebook")
    panel.locator("select.jp-GlueSessionsPanel-group").select_option("attention")  # the default again

    # Take the fixed cell back into the notebook, below its active cell.
    view.locator(".jp-GlueCodeActions button[data-action='insert-run']").last.click()
    page.evaluate("(path) => window.jupyterapp.commands.execute('docmanager:open', {path})", name)
    expect(nb_cells).to_have_count(2)
    expect(nb_cells.nth(1).locator(".jp-OutputArea-output")).to_have_text("42")
    assert own_errors(page) == []


def start_writing(lab_server, target: str) -> str:
    session = lab_server.api("POST", "api/glue/sessions",
                             {"agent": "demo", "cwd": ".", "title": f"Edit {target}", "prompt": f"write {target}"},
                             expect=201)
    return session["id"]


def test_open_documents_reload_after_the_agent_writes_them(page: Page, lab_server, open_lab,
                                                           shoot_light_dark_phone):
    shoot = shoot_light_dark_phone
    name = "sync_story.ipynb"
    write_notebook(lab_server.root_dir, name, "1 + 1")
    (lab_server.root_dir / "sales.csv").write_text("region,units\nnorth,3\nsouth,5\n")
    nb_cells = open_notebook(page, open_lab, name)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:open', {path: 'sales.csv'})")
    grid = page.locator("#jp-main-dock-panel .jp-CSVViewer")
    expect(grid).to_be_visible()
    page.evaluate("(path) => window.jupyterapp.commands.execute('docmanager:open', {path})", name)

    sid = start_writing(lab_server, "sales.csv")
    answer_permission(lab_server, sid)
    toast = page.locator(".Toastify__toast").filter(has_text="Reloaded sales.csv: the agent changed it (turn 1).")
    expect(toast).to_be_visible()
    shoot(page, toast, "notebook-reloaded-toast")
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:open', {path: 'sales.csv'})")
    page.wait_for_function("""() => { const w = window.jupyterapp.shell.currentWidget;
        return w && w.context && w.context.model.toString().includes('Written by the glue demo agent.'); }""")

    sid = start_writing(lab_server, name)
    answer_permission(lab_server, sid)
    page.evaluate("(path) => window.jupyterapp.commands.execute('docmanager:open', {path})", name)
    expect(nb_cells).to_have_count(2)
    expect(nb_cells.nth(1)).to_contain_text(DEMO_LINE)
    expect(page.locator(".jp-NotebookPanel:visible .jp-mod-dirty")).to_have_count(0)
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    assert own_errors(page) == []


def open_with_an_unsaved_edit(page: Page, open_lab, lab_server, name: str):
    """Open `name` (holding "x = 1") in the file editor and type a line, not saved."""
    (lab_server.root_dir / name).write_text("x = 1\n")
    open_lab(page, f"lab/tree/{name}?reset")
    editor = page.locator("#jp-main-dock-panel .jp-FileEditor .cm-content")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("y = 2  # mine\n")
    dirty = page.locator("#jp-main-dock-panel .lm-TabBar-tab.jp-mod-dirty")
    expect(dirty).to_have_count(1)
    return editor, dirty


def conflict_once_the_agent_writes(page: Page, lab_server, name: str):
    """A session writes `name` (allowed); the toast that asks the user what to keep."""
    answer_permission(lab_server, start_writing(lab_server, name))
    return page.locator(".Toastify__toast").filter(has_text=f"The agent changed {name} (turn 1) while you have")


def test_unsaved_edits_are_never_overwritten_nor_met_with_a_dialog(page: Page, lab_server, open_lab,
                                                                   shoot_light_dark_phone):
    shoot = shoot_light_dark_phone
    editor, dirty = open_with_an_unsaved_edit(page, open_lab, lab_server, "notes.py")
    toast = conflict_once_the_agent_writes(page, lab_server, "notes.py")
    expect(toast).to_be_visible()
    shoot(page, toast, "notebook-conflict-toast")
    page.keyboard.type("z = 3  # still typing\n")
    page.keyboard.press("Control+s")  # held: no "File Changed" dialog, the choice is shown again
    expect(toast).to_be_visible()
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    assert (lab_server.root_dir / "notes.py").read_text() == f"x = 1\n{DEMO_LINE}\n"

    toast.get_by_role("button", name="Show changes").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator(".jp-GlueSyncDiff")).to_contain_text(f"+ {DEMO_LINE}")
    shoot(page, dialog.locator(".jp-Dialog-content"), "notebook-conflict-diff")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)

    toast.get_by_role("button", name="Keep mine").click()
    expect(dirty).to_have_count(0)
    expect(toast).to_have_count(0)  # answered, the choice goes (its toast fades out: wait, not to meet it below)
    assert (lab_server.root_dir / "notes.py").read_text() == "x = 1\ny = 2  # mine\nz = 3  # still typing\n"

    # The other choice: the agent's version replaces the unsaved edits.
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("w = 4  # discarded\n")
    expect(dirty).to_have_count(1)
    toast = conflict_once_the_agent_writes(page, lab_server, "notes.py")
    toast.get_by_role("button", name="Reload the agent's version").click()
    expect(dirty).to_have_count(0)
    expect(editor).to_contain_text(DEMO_LINE)
    expect(editor).not_to_contain_text("discarded")
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    assert own_errors(page) == []


def wait_until(pg: Page, condition, what: str) -> None:
    """Wait for a condition on what Playwright reports (it delivers events while the page is
    asked something, so the page is asked: a 50 ms timer there)."""
    for _ in range(600):
        if condition():
            return
        pg.evaluate("() => new Promise(r => setTimeout(r, 50))")
    raise AssertionError(f"never happened: {what}")


class HeldTurnEnds:
    """Relays each session's event stream to the page, holding back its first `turn_end` and
    all that follows (in order: the page drops events older than one it has) until released:
    the turn's end, which names the files again, reaches the page late."""

    def __init__(self, pg: Page):
        self.held: list[tuple[object, str]] = []
        self.holding = True
        pg.route_web_socket(re.compile(r"/api/glue/sessions/[^/?]+/stream"), self.relay)

    def relay(self, ws) -> None:
        server = ws.connect_to_server()

        def from_server(message: str) -> None:
            data = json.loads(message)
            events = data.get("events", [])
            end = next((i for i, e in enumerate(events) if e["kind"] == "turn_end"), None)
            if not self.holding or (end is None and not self.held):
                ws.send(message)
                return
            if end:
                ws.send(json.dumps({**data, "events": events[:end]}))
                message = json.dumps({**data, "events": events[end:]})
            self.held.append((ws, message))

        server.on_message(from_server)

    def release(self) -> None:
        self.holding = False
        for ws, message in self.held:
            ws.send(message)
        self.held.clear()


def test_a_turns_end_met_while_keep_mine_saves_asks_nothing_more(page: Page, lab_server, open_lab):
    """The turn's end names the file the user just answered about; reaching the page while "Keep
    mine" is saving, it must not ask again (it did: a second, stale toast about the same change)."""
    turn_ends = HeldTurnEnds(page)
    checks: list[str] = []  # the file sync's looks at the file on disk (its hash, no content)
    page.on("response", lambda r: "late.py" in r.url and "content=0" in r.url and checks.append(r.url))
    _, dirty = open_with_an_unsaved_edit(page, open_lab, lab_server, "late.py")
    conflict = conflict_once_the_agent_writes(page, lab_server, "late.py")
    expect(conflict).to_have_count(1)
    wait_until(page, lambda: turn_ends.held, "the turn's end reached the relay")

    saves = []
    page.route(re.compile(r"/api/contents/late\.py(\?|$)"), lambda route: saves.append(route) if route.request.method == "PUT"
               else route.continue_())
    conflict.get_by_role("button", name="Keep mine").click()
    wait_until(page, lambda: saves, "Keep mine saved")
    checks.clear()
    turn_ends.release()  # the turn's end arrives while the user's version is being saved
    saves.pop().continue_()
    expect(dirty).to_have_count(0)
    wait_until(page, lambda: checks, "the turn's end was synced")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    expect(conflict).to_have_count(0)
    assert (lab_server.root_dir / "late.py").read_text() == "x = 1\ny = 2  # mine\n"
    assert own_errors(page) == []


# ----- with jupyter-collaboration: the shared document takes the agent's change itself ----------

@pytest.fixture(scope="module")
def collab_lab(tmp_path_factory):
    server = start_lab(tmp_path_factory.mktemp("collab"), collaborative=True)
    yield server
    stop_lab(server)


@pytest.fixture
def collab_page(browser, collab_lab, artifacts, request):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    pg.glue_errors = errors  # type: ignore[attr-defined]
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        pg.screenshot(path=str(artifacts / f"FAILED-{request.node.name}.png"))
    context.close()
    collab_lab.stop_all()


def test_with_real_time_collaboration_the_shared_documents_take_the_change(collab_page: Page, collab_lab,
                                                                           shoot_light_dark_phone):
    shoot = shoot_light_dark_phone
    page, name = collab_page, "shared_story.ipynb"
    write_notebook(collab_lab.root_dir, name, "1 + 1")
    (collab_lab.root_dir / "shared.csv").write_text("region,units\nnorth,3\n")
    page.goto(collab_lab.lab_url(f"lab/tree/{name}?reset"))
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started !== undefined")
    page.evaluate("() => window.jupyterapp.started")
    tag_panels(page)
    nb_cells = cells(page, name)
    expect(nb_cells).to_have_count(1)
    assert page.evaluate(f"(path) => {{ const panel = {LOCAL_PANEL}; return panel.context.model.collaborative; }}",
                         name) is True
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:open', {path: 'shared.csv'})")
    expect(page.locator("#jp-main-dock-panel .jp-CSVViewer")).to_be_visible()

    sid = start_writing(collab_lab, name)
    answer_permission(collab_lab, sid)
    toast = page.locator(".Toastify__toast").filter(has_text=f"{name} was changed by the agent (turn 1)")
    expect(toast).to_contain_text("the shared document took the change")
    page.evaluate("(path) => window.jupyterapp.commands.execute('docmanager:open', {path})", name)
    expect(nb_cells).to_have_count(2)  # the room reloaded it from disk, for every collaborator
    expect(nb_cells.nth(1)).to_contain_text(DEMO_LINE)
    shoot(page, page.locator("#jp-main-dock-panel"), "notebook-collaborative-reload")

    sid = start_writing(collab_lab, "shared.csv")
    answer_permission(collab_lab, sid)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:open', {path: 'shared.csv'})")
    page.wait_for_function("""() => { const w = window.jupyterapp.shell.currentWidget;
        return w && w.context && w.context.model.toString().includes('Written by the glue demo agent.'); }""")
    expect(page.locator(".jp-Dialog")).to_have_count(0)  # no "File Changed", no conflict of ours
    assert own_errors(page) == []
