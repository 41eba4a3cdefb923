"""Agent Markdown may name images on other servers (a prompt-injected agent can put data in the
URL). In real JupyterLab and Chromium: such an image is not fetched until the user asks; it shows
as a placeholder naming its host, and one click loads it (with no Referer). Inline images load.
Screenshots of the placeholder: light, dark, and phone width."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(300)

PNG = base64.b64decode(  # the demo agent's 16x16 blue square
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mOQLLtEEmIY1TCqYfhqAADxpWEQVaTKZwAAAABJRU5ErkJggg==")


class ImageHost:
    """Another origin serving one PNG, recording every request it gets."""

    def __init__(self):
        self.requests: list[dict] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                host.requests.append({"path": self.path, "headers": dict(self.headers)})
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def image_host():
    host = ImageHost()
    yield host
    host.close()


def answered_view(pg: Page, lab_server, open_lab, title: str, prompt: str):
    """A session the demo agent answered `prompt` in, opened in JupyterLab: its view."""
    lab_server.stop_all()
    session = lab_server.api("POST", "api/glue/sessions",
                             {"agent": "demo", "cwd": ".", "title": title, "prompt": prompt}, expect=201)
    lab_server.wait_session(session["id"], lambda s: s["state"] == "idle")
    open_lab(pg)
    pg.evaluate("(id) => window.jupyterapp.commands.execute('glue:open-session', {id})", session["id"])
    view = pg.locator(f'#jp-main-dock-panel .jp-GlueSessionView[data-session-id="{session["id"]}"]')
    expect(view).to_be_visible()
    return view


def test_remote_images_wait_for_a_click(page: Page, lab_server, open_lab, artifacts, shoot_light_dark_phone,
                                        image_host):
    secret_url = image_host.url + "pixel.png?note=the-users-secret"
    view = answered_view(page, lab_server, open_lab, "Chart with a remote image", f"picture {secret_url}")
    placeholder = view.locator(".jp-GlueRemoteImage")
    expect(placeholder).to_have_count(1)
    host = image_host.url.split("//")[1].rstrip("/")
    expect(placeholder).to_contain_text(f"Image from {host}")
    expect(placeholder).to_contain_text("sales chart")
    expect(placeholder).to_have_attribute("title", secret_url)
    inline = view.locator('.jp-GlueMarkdown img[src^="data:image/png"]')
    expect(inline).to_be_visible()  # inline images need no network: they show
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 16", arg=inline.element_handle())
    assert image_host.requests == []  # the page rendered the message without calling the host

    message = view.locator(".jp-GlueItem:has(.jp-GlueMarkdown img)")
    shoot_light_dark_phone(page, message, "remote-image-placeholder")
    assert image_host.requests == []

    placeholder.get_by_role("button", name="Load image").click()
    loaded = view.locator(f'.jp-GlueMarkdown img[src="{secret_url}"]')
    expect(loaded).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 16", arg=loaded.element_handle())
    assert [r["path"] for r in image_host.requests] == ["/pixel.png?note=the-users-secret"]
    assert "Referer" not in image_host.requests[0]["headers"]  # the page's URL stays here
    expect(view.locator(".jp-GlueRemoteImage")).to_have_count(0)
    message.screenshot(path=str(artifacts / "remote-image-loaded.png"))


def test_raw_html_media_in_agent_markdown_fetches_nothing(page: Page, lab_server, open_lab, image_host):
    """HTML the agent writes itself: images get the same placeholder; media and SVG are dropped."""
    u = image_host.url
    text = (f'<img src="{u}raw.png" alt="raw"> <video poster="{u}poster.png" src="{u}v.mp4"></video> '
            f'<svg><image href="{u}svg.png"/></svg> <audio src="{u}a.mp3"></audio> '
            f'<picture><source srcset="{u}source.png"><img src="{u}pic.png" srcset="{u}set.png 2x"></picture> '
            f'<p background="{u}bg.png">prompt-injected</p>')
    view = answered_view(page, lab_server, open_lab, "Raw HTML", f"verbatim {text}")
    reply = view.locator(".jp-GlueMarkdown", has_text="prompt-injected")
    expect(reply).to_be_visible()
    expect(reply.locator(".jp-GlueRemoteImage")).to_have_count(2)  # raw.png and pic.png
    assert reply.locator("img, video, audio, source, svg, picture").count() == 0
    assert reply.locator("[background], [srcset], [poster]").count() == 0
    assert image_host.requests == []
