"""The notebook widget for one session: an anywidget whose front end talks to the server itself.

The kernel only tells the front end *which* session and *which* server; streaming and the
buttons go straight from the browser to the server's HTTP/WebSocket routes with the page's
own authentication, so the widget keeps working while the kernel is busy or gone.

A reopened notebook has no widget model. JupyterLab then shows "Error displaying widget: model
not found" for the widget output (it never falls back to another mimetype of the same output
while the notebook is trusted), so a readable snapshot is published as its own output right
before the widget (see ``_ipython_display_``); a little CSS in the snapshot hides whichever of
the two is redundant: the snapshot while the live widget is rendered, the widget's "Loading
widget..." / "Error displaying widget" text (no element inside) when it is not.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

from .client.errors import GlueClientError
from .client.render import snapshot_html, snapshot_text

STATIC = Path(__file__).parent / "static"
SNAPSHOT_EVENTS = 2000  # the tail shown in a snapshot; the live widget pages the rest itself

_MISSING_BUNDLE = """
export default { render({ model, el }) {
  el.textContent = "glue_jupyter: the widget's front end is not built (glue_jupyter/static/widget.js). "
    + "Session " + model.get("session_id");
} };
"""

# Rules only a trusted output keeps (sanitisers drop <style>); untrusted views show both parts,
# and the widget part then falls back to its text/plain, which is short.
_SNAPSHOT_STYLE = """<style>
.jp-OutputArea-child:has(.glue-snapshot):has(+ .jp-OutputArea-child > .jp-OutputArea-output > *) { display: none; }
.jp-OutputArea-child:has(.glue-snapshot) + .jp-OutputArea-child:not(:has(> .jp-OutputArea-output > *)) { display: none; }
</style>"""


def _browser_url(client) -> str:
    """The server as the front end should name it: empty (same origin) when the kernel's
    server is the page's, i.e. the one that launched the kernel or lists it."""
    server = getattr(client, "server", None)
    if server is None or server.how in ("parent", "kernel"):
        return ""
    return server.url


def _asset(name: str, fallback: str):
    path = STATIC / name
    return path if path.is_file() else fallback


class GlueWidget(anywidget.AnyWidget):
    _esm = _asset("widget.js", _MISSING_BUNDLE)
    _css = _asset("widget.css", "")

    session_id = traitlets.Unicode("").tag(sync=True)
    # Empty: the page's own server, with the page's own authentication (what a browser can
    # use: the kernel may know the same server as 127.0.0.1, the page as a proxy URL). Another
    # server's URL gets none of the page's credentials: the front end asks the user for that
    # server's token and keeps it in the tab's memory (never in this trait, nor the notebook).
    server_url = traitlets.Unicode("").tag(sync=True)

    def __init__(self, session_id: str, client=None, **kwargs):
        if "server_url" not in kwargs:
            kwargs["server_url"] = _browser_url(client)
        super().__init__(session_id=session_id, **kwargs)
        self._client = client
        self._snapshot = None

    def __repr__(self):
        return f"GlueWidget(session_id={self.session_id!r})"

    # -- the snapshot ----------------------------------------------------------------------
    def snapshot(self, refresh: bool = False) -> tuple[str, str]:
        """(text, html) of the session as it is now; empty when there is no client."""
        if self._client is None:
            return f"glue session {self.session_id}", ""
        if self._snapshot is None or refresh:
            session = self._client.get(self.session_id)
            after = max(0, session.get("last_seq", 0) - SNAPSHOT_EVENTS)
            events = self._client.events(self.session_id, after_seq=after)
            self._snapshot = (snapshot_text(session, events, after), snapshot_html(session, events, after))
        return self._snapshot

    def _repr_mimebundle_(self, **kwargs):
        data, metadata = super()._repr_mimebundle_(**kwargs)
        text, html = self.snapshot()
        data["text/plain"] = text
        if html:
            data["text/html"] = html
        return data, metadata

    def _ipython_display_(self):
        from IPython.display import publish_display_data

        try:
            text, html = self.snapshot(refresh=True)
        except GlueClientError as e:  # the live widget may still reach the server; say why
            text, html = f"glue session {self.session_id} (no snapshot: {e})", ""
        if html:
            publish_display_data({"text/plain": text, "text/html": _SNAPSHOT_STYLE + html})
        data, metadata = super()._repr_mimebundle_()
        data["text/plain"] = repr(self) if html else text
        publish_display_data(data, metadata)
