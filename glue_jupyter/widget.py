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

The snapshot says when it was taken and links back to the live view; while the kernel lives, a
daemon thread follows the session and re-publishes it (``update_display``) as turns end and
states change, so the notebook saved later holds the session as it was then — not its first
message under a "running" dot.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import anywidget
import traitlets

from .client.errors import GlueClientError
from .client.render import snapshot_html, snapshot_text
from .client.stream import SNAPSHOT_KINDS

STATIC = Path(__file__).parent / "static"
SNAPSHOT_EVENTS = 2000  # the tail shown in a snapshot; the live widget pages the rest itself
SNAPSHOT_EVERY = 1.0    # seconds between re-published snapshots, at most

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
        self._keeper: _SnapshotKeeper | None = None

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
            self._snapshot = (snapshot_text(session, events, after),
                              snapshot_html(session, events, after, taken_at=time.time()))
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
            display_id = f"glue-snapshot-{uuid.uuid4().hex}"
            publish_display_data({"text/plain": text, "text/html": _SNAPSHOT_STYLE + html},
                                 transient={"display_id": display_id})
            self._keep_fresh(display_id)
        data, metadata = super()._repr_mimebundle_()
        data["text/plain"] = repr(self) if html else text
        publish_display_data(data, metadata)

    def _keep_fresh(self, display_id: str) -> None:
        if self._client is None or getattr(self._client, "embedded", False):
            return
        self._keeper = _SnapshotKeeper.for_widget(self, display_id)

    def close(self):
        if self._keeper is not None:
            self._keeper.drop(self)
            self._keeper = None
        super().close()


class _SnapshotKeeper(threading.Thread):
    """Re-publish a session's snapshot outputs as it changes (kernel side, best effort): one
    thread and one stream per session and client, however many outputs show it."""

    _running: dict[tuple[int, str], _SnapshotKeeper] = {}
    _registry_lock = threading.Lock()

    @classmethod
    def for_widget(cls, widget: GlueWidget, display_id: str) -> _SnapshotKeeper:
        """The session's keeper (started if needed), now keeping `display_id` fresh too."""
        key = (id(widget._client), widget.session_id)
        with cls._registry_lock:
            keeper = cls._running.get(key)
            if keeper is None or keeper._stopped.is_set():
                keeper = cls._running[key] = cls(widget)
                keeper.start()
            with keeper._lock:
                keeper.display_ids[display_id] = widget
            return keeper

    def __init__(self, widget: GlueWidget):
        super().__init__(name=f"glue-snapshot-{widget.session_id[:8]}", daemon=True)
        self.widget = widget
        self.display_ids: dict[str, GlueWidget] = {}
        self._follower = None
        self._stopped = threading.Event()
        self._last = 0.0
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def drop(self, widget: GlueWidget) -> None:
        """A widget closed: its outputs are no longer kept fresh; the last one out stops the thread."""
        with self._registry_lock, self._lock:
            self.display_ids = {d: w for d, w in self.display_ids.items() if w is not widget}
            if not self.display_ids:
                self._stopped.set()
        if self._stopped.is_set():
            self.stop()

    def stop(self) -> None:
        self._stopped.set()
        if self._timer is not None:
            self._timer.cancel()
        if self._follower is not None:
            self._follower.close()

    def run(self) -> None:
        client = self.widget._client
        try:
            after = client.get(self.widget.session_id)["last_seq"]
            self._follower = client.follow(self.widget.session_id, after)
            for message in self._follower:
                if self._stopped.is_set():
                    return
                if any(e["kind"] in SNAPSHOT_KINDS for e in message.get("events", ())):
                    self._soon()
        except Exception:  # the server or the session went away: the last snapshot stays
            return
        finally:
            self._stopped.set()  # a later display starts a new keeper

    def _soon(self) -> None:
        """Publish now, or once SNAPSHOT_EVERY has passed since the last one."""
        with self._lock:
            wait = self._last + SNAPSHOT_EVERY - time.monotonic()
            if wait <= 0:
                self._publish()
            elif self._timer is None or not self._timer.is_alive():
                self._timer = threading.Timer(wait, self._publish_locked)
                self._timer.daemon = True
                self._timer.start()

    def _publish_locked(self) -> None:
        with self._lock:
            self._publish()

    def _publish(self) -> None:
        from IPython.display import update_display

        if self._stopped.is_set():
            return
        self._last = time.monotonic()
        try:
            text, html = self.widget.snapshot(refresh=True)
        except GlueClientError:
            return
        if html:
            for display_id in list(self.display_ids):
                update_display({"text/plain": text, "text/html": _SNAPSHOT_STYLE + html}, raw=True,
                               display_id=display_id)
