"""The notebook widget's credentials, in real JupyterLab and Chromium.

- A widget whose `server_url` names another Jupyter server (a kernel pointed elsewhere, or a
  shared notebook's saved widget state) sends that server nothing of the page's: no token, no
  cookie. It says so and asks for that server's own token, which it keeps in memory only.
- WebSockets to the page's own server carry no token in their URL (the login cookie does).
- A widget whose session was forgotten says so and stops reconnecting.
Screenshots of the other-server panel: light, dark, phone width.
"""

from __future__ import annotations

import nbformat
import pytest
from playwright.sync_api import Page, expect

from conftest import start_lab, stop_lab

pytestmark = pytest.mark.timeout(300)

NOTEBOOK = "widget_trust.ipynb"


@pytest.fixture(scope="module")
def other_server(lab_server, tmp_path_factory):
    """A second Jupyter server with glue_jupyter and its own token, which lets the first
    server's page call it (CORS), as a user's other server might."""
    origin = lab_server.url.rstrip("/")
    server = start_lab(tmp_path_factory.mktemp("other"), app="jupyter_server",
                       extra_config=f"c.ServerApp.allow_origin = {origin!r}\n")
    yield server
    stop_lab(server)


def write_notebook(root, code: str):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / NOTEBOOK)


def run_first_cell(pg: Page):
    pg.wait_for_function(
        """(path) => {
            const panel = [...window.jupyterapp.shell.widgets('main')].find(w => w.context?.path === path);
            return !!panel?.sessionContext?.session?.kernel && panel.sessionContext.session.kernel.status === 'idle';
        }""", arg=NOTEBOOK, timeout=60_000)
    pg.evaluate(
        """async (path) => {
            const panel = [...window.jupyterapp.shell.widgets('main')].find(w => w.context?.path === path);
            await panel.sessionContext.ready;
            window.jupyterapp.shell.activateById(panel.id);
            panel.content.activeCellIndex = 0;
            await window.jupyterapp.commands.execute('notebook:run-cell');
        }""",
        NOTEBOOK,
    )


class Traffic:
    """Every HTTP request and WebSocket the page opens: URL and headers."""

    def __init__(self, pg: Page):
        self.requests: list[tuple[str, dict]] = []
        self.sockets: list[str] = []
        pg.on("request", lambda r: self.requests.append((r.url, r.all_headers())))
        pg.on("websocket", lambda ws: self.sockets.append(ws.url))

    def to(self, base: str) -> list[tuple[str, dict]]:
        return [(url, headers) for url, headers in self.requests if url.startswith(base)]


def test_a_widget_for_another_server_never_sends_the_pages_credentials(
        page: Page, lab_server, other_server, open_lab, artifacts, shoot_light_dark_phone):
    lab_server.stop_all()
    session = other_server.api("POST", "api/glue/sessions",
                               {"agent": "demo", "cwd": ".", "title": "On the other server",
                                "prompt": "quick"}, expect=201)
    other_server.wait_session(session["id"], lambda s: s["state"] == "idle")
    write_notebook(lab_server.root_dir, "from glue_jupyter.widget import GlueWidget\n"
                   f"GlueWidget({session['id']!r}, server_url={other_server.url!r})")
    traffic = Traffic(page)
    open_lab(page, f"lab/tree/{NOTEBOOK}?reset")
    run_first_cell(page)

    panel = page.locator(".jp-GlueWidget .jp-GlueOtherServer")
    expect(panel).to_be_visible(timeout=60_000)
    expect(panel).to_contain_text("This session is on another Jupyter server")
    expect(panel).to_contain_text(other_server.url)
    expect(panel).to_contain_text("never sends its own credentials")
    assert traffic.to(other_server.url) == []  # not contacted at all

    shoot_light_dark_phone(page, panel, "widget-other-server")

    token = panel.locator("input.jp-GlueOtherServer-token")
    token.fill("not-the-right-token")
    panel.get_by_role("button", name="Connect").click()
    expect(panel.locator(".jp-GlueOtherServer-problem")).to_contain_text("refused that token")
    panel.screenshot(path=str(artifacts / "widget-other-server-refused.png"))

    token.fill(other_server.token)
    panel.get_by_role("button", name="Connect").click()
    view = page.locator(".jp-GlueWidget .jp-GlueSessionView")
    expect(view).to_have_attribute("data-session-id", session["id"])
    expect(view.get_by_text("Quick answer from the glue demo agent")).to_be_visible()
    expect(view).to_have_attribute("data-stream", "open")

    sent = traffic.to(other_server.url)
    assert sent, "the widget never reached the other server"
    for url, headers in sent:
        assert lab_server.token not in url and lab_server.token not in str(headers), url
        assert "cookie" not in headers and "x-xsrftoken" not in headers, url
        auth = headers.get("authorization")
        assert auth in (None, "token not-the-right-token", f"token {other_server.token}"), (url, auth)
    other_ws = [url for url in traffic.sockets if url.startswith(other_server.url.replace("http", "ws", 1))]
    assert other_ws and all(f"token={other_server.token}" in url for url in other_ws)
    # The page's own sockets (sessions list, kernel) authenticate with the login cookie.
    assert all(lab_server.token not in url for url in traffic.sockets)
    # The token the user typed is nowhere in the notebook or its widget state.
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    expect(page.locator(".jp-NotebookPanel:visible .jp-mod-dirty")).to_have_count(0)
    assert other_server.token not in (lab_server.root_dir / NOTEBOOK).read_text()
    page.evaluate("() => window.jupyterapp.commands.execute('kernelmenu:shutdown')")


def test_a_forgotten_sessions_widget_says_so_and_stops(page: Page, lab_server, open_lab, artifacts):
    lab_server.stop_all()
    session = lab_server.api("POST", "api/glue/sessions",
                             {"agent": "demo", "cwd": ".", "title": "Soon forgotten", "prompt": "quick"},
                             expect=201)
    lab_server.wait_session(session["id"], lambda s: s["state"] == "idle")
    write_notebook(lab_server.root_dir, f"from glue_jupyter.widget import GlueWidget\nGlueWidget({session['id']!r})")
    traffic = Traffic(page)
    # The widget marks the finished turn seen; that request is held until the session is
    # forgotten, as when the user forgets it elsewhere at that moment (it must not be an error).
    held = []
    page.route(f"**/api/glue/sessions/{session['id']}/seen", lambda route: held.append(route))
    open_lab(page, f"lab/tree/{NOTEBOOK}?reset")
    with page.expect_request(f"**/api/glue/sessions/{session['id']}/seen", timeout=60_000):
        run_first_cell(page)
    view = page.locator(".jp-GlueWidget .jp-GlueSessionView")
    expect(view).to_have_attribute("data-stream", "open", timeout=60_000)
    stream = f"api/glue/sessions/{session['id']}/stream"
    assert [url for url in traffic.sockets if stream in url]
    assert all(lab_server.token not in url for url in traffic.sockets)  # cookie, not ?token=

    lab_server.api("POST", f"api/glue/sessions/{session['id']}/stop", {}, expect=200)
    lab_server.api("DELETE", f"api/glue/sessions/{session['id']}", expect=204)
    with page.expect_response(f"**/api/glue/sessions/{session['id']}/seen") as answer:
        held.pop().continue_()
    assert answer.value.status == 404
    expect(view).to_have_attribute("data-stream", "gone")
    expect(view.locator(".jp-GlueSessionView-conn")).to_contain_text("no longer exists")
    expect(view.locator("textarea.jp-GlueComposer-input")).to_be_disabled()
    for name in ("interrupt", "pause", "stop", "resume"):
        expect(view.locator(f"button[data-control='{name}']")).to_be_disabled()
    attempts = len([url for url in traffic.sockets if stream in url])
    view.screenshot(path=str(artifacts / "widget-session-forgotten.png"))
    expect(view).to_have_attribute("data-stream", "gone")  # a stream that is gone stays closed
    assert len([url for url in traffic.sockets if stream in url]) == attempts
    page.evaluate("() => window.jupyterapp.commands.execute('kernelmenu:shutdown')")
