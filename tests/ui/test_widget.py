"""The notebook widget in real JupyterLab (headless Chromium): it streams and its buttons act
while the kernel is busy in `time.sleep(60)`, and a reopened notebook without the widget's
model still shows a readable snapshot. Screenshots of each state go to test-artifacts/."""

from __future__ import annotations

import nbformat
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(300)

NOTEBOOK = "widget_story.ipynb"
WIDGET = ".jp-GlueWidget"
SLEEP_CELL = "import time\nstarted = time.time()\ntime.sleep(60)\nprint(f'slept {time.time() - started:.0f} s')"


def write_notebook(root):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%load_ext glue_jupyter\n%glue start --agent demo --cwd . --title Widget sleep for a while"),
        nbformat.v4.new_code_cell(SLEEP_CELL),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / NOTEBOOK)


def cell(pg: Page, index: int):
    return pg.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)


FIND_PANEL = "[...window.jupyterapp.shell.widgets('main')].find(w => w.context?.path === path)"


def run_cell(pg: Page, index: int, path: str = NOTEBOOK):
    """Run one cell the way the Run menu does (without waiting for it to finish)."""
    pg.evaluate(
        f"""async ([i, path]) => {{
            const panel = {FIND_PANEL};
            await panel.sessionContext.ready;
            window.jupyterapp.shell.activateById(panel.id);
            panel.content.activeCellIndex = i;
            window.jupyterapp.commands.execute('notebook:run-cell');
        }}""",
        [index, path],
    )


def wait_kernel_idle(pg: Page, path: str = NOTEBOOK):
    pg.wait_for_function(
        f"""(path) => {{
            const panel = {FIND_PANEL};
            if (!panel || !panel.sessionContext || !panel.sessionContext.isReady) return false;
            const kernel = panel.sessionContext.session?.kernel;
            return !!kernel && kernel.status === 'idle';
        }}""",
        arg=path,
        timeout=60_000,
    )


def control(widget, name):
    return widget.locator(f"button[data-control='{name}']")


def shoot(widget, artifacts, name):
    widget.screenshot(path=str(artifacts / f"widget-{name}.png"))


def test_widget_acts_while_the_kernel_sleeps(page: Page, lab_server, open_lab, artifacts):
    lab_server.stop_all()
    write_notebook(lab_server.root_dir)
    open_lab(page, f"lab/tree/{NOTEBOOK}?reset")
    wait_kernel_idle(page)

    run_cell(page, 0)
    widget = cell(page, 0).locator(WIDGET)
    view = widget.locator(".jp-GlueSessionView")
    expect(view).to_have_attribute("data-state", "running")
    expect(widget.get_by_text("Waiting for sleep").first).to_be_visible()  # streaming
    expect(control(widget, "interrupt")).to_be_enabled()
    expect(control(widget, "resume")).to_be_disabled()
    shoot(widget, artifacts, "running")

    # The kernel is now busy for 60 s; the widget must not need it.
    run_cell(page, 1)
    busy_prompt = cell(page, 1).locator(".jp-InputArea-prompt")
    expect(busy_prompt).to_have_text("[*]:")

    control(widget, "interrupt").click()
    expect(widget.locator("[data-stop-reason='cancelled']")).to_be_visible()
    expect(view).to_have_attribute("data-state", "idle")
    expect(busy_prompt).to_have_text("[*]:")  # the sleep has not ended: the widget did it alone
    expect(control(widget, "interrupt")).to_be_disabled()
    shoot(widget, artifacts, "interrupted-while-kernel-busy")

    session_id = view.get_attribute("data-session-id")
    events = lab_server.api("GET", f"api/glue/sessions/{session_id}/events", expect=200)["events"]
    assert [e["data"]["stop_reason"] for e in events if e["kind"] == "turn_end"] == ["cancelled"]

    # The composer still works after an interrupt: ask for a file write and approve it.
    widget.locator("textarea.jp-GlueComposer-input").fill("write from-widget.txt")
    widget.locator("button.jp-GlueComposer-send").click()
    allow = widget.get_by_role("button", name="Allow", exact=True)
    expect(allow).to_be_visible()
    shoot(widget, artifacts, "permission-request")
    allow.click()
    expect(allow).to_have_count(0)  # no dead buttons once answered
    expect(view).to_have_attribute("data-state", "idle")
    assert (lab_server.root_dir / "from-widget.txt").exists()

    control(widget, "pause").click()
    expect(view).to_have_attribute("data-state", "paused")
    expect(widget.get_by_text("paused", exact=False).first).to_be_visible()
    shoot(widget, artifacts, "paused")

    control(widget, "resume").click()
    expect(view).to_have_attribute("data-state", "idle")
    control(widget, "stop").click()
    expect(view).to_have_attribute("data-state", "stopped")
    expect(control(widget, "resume")).to_be_enabled()
    shoot(widget, artifacts, "stopped")

    expect(busy_prompt).to_have_text("[*]:")  # all of it during the one sleep
    page.evaluate("() => window.jupyterapp.commands.execute('kernelmenu:interrupt')")
    wait_kernel_idle(page)

    # The kernel dies. The widget talks to the server itself, so it carries on without one:
    # resume, prompt, and watch the answer stream in.
    for kernel in lab_server.api("GET", "api/kernels", expect=200):
        lab_server.api("DELETE", f"api/kernels/{kernel['id']}", expect=204)
    assert lab_server.api("GET", "api/kernels", expect=200) == []
    control(widget, "resume").click()
    expect(view).to_have_attribute("data-state", "idle")
    widget.locator("textarea.jp-GlueComposer-input").fill("quick, after the shutdown")
    widget.locator("button.jp-GlueComposer-send").click()
    expect(widget.get_by_text("Quick answer from the glue demo agent").last).to_be_visible()
    expect(view).to_have_attribute("data-state", "idle")
    shoot(widget, artifacts, "after-kernel-shutdown")


def test_reopened_notebook_without_the_model_shows_a_snapshot(page: Page, lab_server, open_lab, artifacts):
    lab_server.stop_all()
    write_notebook(lab_server.root_dir)
    open_lab(page, f"lab/tree/{NOTEBOOK}?reset")
    wait_kernel_idle(page)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:replace-selection', {text: ''})")
    run_cell(page, 0)
    widget = cell(page, 0).locator(WIDGET)
    expect(widget.locator(".jp-GlueSessionView")).to_have_attribute("data-state", "running")
    # The live widget hides its own snapshot.
    expect(cell(page, 0).locator(".glue-snapshot")).to_be_hidden()
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    expect(page.locator(".jp-NotebookPanel:visible .jp-mod-dirty")).to_have_count(0)
    page.evaluate("() => window.jupyterapp.commands.execute('kernelmenu:shutdown')")

    # Reopen: a new page, the old widget model gone with its kernel.
    open_lab(page, f"lab/tree/{NOTEBOOK}?reset")
    snapshot = cell(page, 0).locator(".glue-snapshot")
    expect(snapshot).to_be_visible()
    expect(snapshot).to_contain_text("sleep for a while")
    expect(cell(page, 0).get_by_text("Error displaying widget")).to_be_hidden()
    expect(cell(page, 0).get_by_text("Loading widget")).to_be_hidden()
    cell(page, 0).locator(".jp-Cell-outputArea").screenshot(path=str(artifacts / "widget-reopened-snapshot.png"))
    lab_server.stop_all()
