"""Blocking client for the server's ``api/glue`` routes (stdlib only).

Blocking on purpose: magics run inside a cell while the kernel's event loop is busy running
that cell, so they cannot await anything on it; a plain socket call is the honest way.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from .discovery import START_HINT, ServerRef
from .errors import NoServerFound, ServerError
from .stream import EventWaits, follow
from .workspace import CONTROL_TIMEOUT, HttpWorkspaceCalls

READ_TIMEOUT = 30.0


class GlueClient(HttpWorkspaceCalls, EventWaits):
    """Every engine control over HTTP. Methods return the server's JSON (dicts)."""

    embedded = False

    def __init__(self, server: ServerRef):
        self.server = server

    def __repr__(self):
        return f"GlueClient({self.server.url!r})"

    @property
    def url(self) -> str:
        return self.server.url

    # -- transport -------------------------------------------------------------------------
    def _request(self, method, path, body=None, query=None, timeout=READ_TIMEOUT):
        url = self.server.url + path
        if query:
            query = {k: v for k, v in query.items() if v is not None}
            if query:
                url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.server.token:
            req.add_header("Authorization", f"token {self.server.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raise ServerError(_error_message(e), e.code) from None
        except (urllib.error.URLError, ConnectionError) as e:
            reason = getattr(e, "reason", e)
            raise NoServerFound(
                f"cannot reach the Jupyter server at {self.server.url} ({reason}); {START_HINT}"
            ) from None
        except TimeoutError:
            raise ServerError(f"the server at {self.server.url} did not answer in {timeout:g} s") from None
        return json.loads(raw) if raw else None

    def _session_path(self, session_id, *rest):
        parts = ["api/glue/sessions", urllib.parse.quote(str(session_id), safe="")]
        parts += [urllib.parse.quote(str(r), safe="") for r in rest]
        return "/".join(parts)

    # -- the API ---------------------------------------------------------------------------
    def info(self) -> dict:
        return self._request("GET", "api/glue/info")

    def agents(self, refresh: bool = False) -> list[dict]:
        """Each agent, checked by the server (installed, version, signed in, capabilities)."""
        query = {"refresh": "1"} if refresh else None
        # The first listing starts every installed agent briefly: allow it time.
        return self._request("GET", "api/glue/agents", query=query, timeout=max(60.0, READ_TIMEOUT))["agents"]

    def list_sessions(self, state=None, agent=None, q=None, sort=None, notebook=None) -> list[dict]:
        query = {"state": state, "agent": agent, "q": q, "sort": sort, "notebook": notebook}
        return self._request("GET", "api/glue/sessions", query=query)["sessions"]

    def start(self, agent, cwd, title=None, prompt=None, context=None, notebook=None, mode=None, model=None,
              config=None, agent_session_id=None, kernel_id=None, isolate=False) -> dict:
        """Start a session (`agent_session_id`: adopt that one of the agent's own sessions;
        `kernel_id`: give the agent the live-kernel tool on that kernel of the server;
        `isolate`: the agent works in a git worktree of its own)."""
        body = {"agent": agent, "cwd": cwd}
        optional = {"notebook": notebook, "title": title, "prompt": prompt, "context": context, "mode": mode,
                    "model": model, "config": config, "agent_session_id": agent_session_id, "kernel_id": kernel_id,
                    "isolate": isolate}
        body.update({key: value for key, value in optional.items() if value})
        return self._request("POST", "api/glue/sessions", body, timeout=CONTROL_TIMEOUT)

    def configure(self, session_id, option, value) -> dict:
        """Set the session's mode, model or another option (value: str, or bool)."""
        return self._control(session_id, "config", {"option": option, "value": value})

    def agent_sessions(self, agent, cwd=None) -> list[dict]:
        """The agent's own sessions for a folder, to adopt one with start(agent_session_id=…)."""
        path = "api/glue/agents/" + urllib.parse.quote(agent, safe="") + "/sessions"
        return self._request("GET", path, query={"cwd": cwd}, timeout=CONTROL_TIMEOUT)["sessions"]

    def get(self, session_id) -> dict:
        return self._request("GET", self._session_path(session_id))

    def prompt(self, session_id, text, context=None, when=None) -> dict:
        """Send a prompt; `context`: blocks of docs/contract.md ("Prompt context"). While a turn
        runs it is queued, or with when="now" sent at once (steering or interrupting the turn)."""
        body = {"text": text, **({"context": context} if context else {}), **({"when": when} if when else {})}
        return self._control(session_id, "prompt", body)

    def interrupt(self, session_id) -> dict:
        return self._control(session_id, "interrupt")

    def pause(self, session_id) -> dict:
        return self._control(session_id, "pause")

    def stop(self, session_id) -> dict:
        return self._control(session_id, "stop")

    def resume(self, session_id, prompt=None, context=None) -> dict:
        body = {"prompt": prompt} if prompt else {}
        if context:
            body["context"] = context
        return self._control(session_id, "resume", body)

    def answer_permission(self, session_id, request_id, option_id) -> dict:
        path = self._session_path(session_id, "permissions", request_id)
        return self._request("POST", path, {"option_id": option_id}, timeout=CONTROL_TIMEOUT)

    def rename(self, session_id, title) -> dict:
        return self._request("PATCH", self._session_path(session_id), {"title": title})

    def mark_seen(self, session_id, seq=None) -> dict:
        """Tell the server the user has now seen the session's log (up to seq)."""
        return self._request("POST", self._session_path(session_id, "seen"), {} if seq is None else {"seq": seq})

    def forget(self, session_id) -> None:
        self._request("DELETE", self._session_path(session_id), timeout=CONTROL_TIMEOUT)

    def events(self, session_id, after_seq=0, limit=None) -> list[dict]:
        query = {"after_seq": after_seq, "limit": limit}
        return self._request("GET", self._session_path(session_id, "events"), query=query)["events"]

    def _control(self, session_id, verb, body=None):
        path = self._session_path(session_id, verb)
        return self._request("POST", path, body if body is not None else {}, timeout=CONTROL_TIMEOUT)

    # -- streaming -------------------------------------------------------------------------
    def follow(self, session_id, after_seq=0):
        """Iterate over lists of events, replay then live (see ``stream.follow``)."""
        return follow(self, session_id, after_seq)



def _error_message(err: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(err.read() or b"null")
    except ValueError:
        body = None
    message = str(body["message"]) if isinstance(body, dict) and body.get("message") else ""
    if err.code in (401, 403) and message in ("", "Forbidden", "Unauthorized"):
        # Jupyter says just "Forbidden" for a bad token: say which knob to turn.
        return f"{err.code} {err.reason}: the server refused our credentials; check --token or GLUE_JUPYTER_TOKEN"
    return message or f"{err.code} {err.reason}"
