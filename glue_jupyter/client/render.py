"""Turn events into something to read: streaming text for a terminal, HTML for a snapshot.

Both work from the same fold of the event log (``Transcript``): consecutive chunks become one
message, tool call updates merge into their call, a permission request carries its answer.
"""

from __future__ import annotations

import functools
import html
import time
import urllib.parse

from . import agent_state

STATE_COLOURS = {  # ANSI colour per state; the widget's dot uses the same families
    "starting": "33", "idle": "32", "running": "36", "interrupting": "33",
    "paused": "35", "stopping": "33", "stopped": "90", "failed": "31",
}
HTML_COLOURS = {
    "starting": "#d29922", "idle": "#2da44e", "running": "#0969da", "interrupting": "#d29922",
    "paused": "#8250df", "stopping": "#d29922", "stopped": "#8c959f", "failed": "#cf222e",
}
SETTLED = {"idle", "paused", "stopped", "failed"}  # nothing will happen without a user


def dot(state: str, colour: bool) -> str:
    return f"\x1b[{STATE_COLOURS.get(state, '0')}m●\x1b[0m" if colour else "●"


def duration(secs: float) -> str:
    secs = int(secs)
    if secs >= 3600:
        return f"{secs // 3600}h{secs % 3600 // 60:02d}m"
    if secs >= 60:
        return f"{secs // 60}m{secs % 60:02d}s"
    return f"{secs}s"


def status_line(s: dict) -> str:
    """One line a human reads: state, how long paused, how it last resumed."""
    bits = [s["state"]]
    if s.get("state") == "paused" and s.get("paused_since"):
        bits.append(f"paused for {duration(time.time() - s['paused_since'])}")
    if s.get("resumed_via"):
        bits.append(f"resumed: {s['resumed_via']}")
    if s.get("pending_permissions"):
        bits.append(f"{s['pending_permissions']} permission request(s) waiting")
    if s.get("error"):
        bits.append(f"error: {s['error']}")
    bits += [part for part in (agent_state.setup(s), agent_state.gauge(s)) if part]
    return " · ".join(bits)


# -- streaming text (the command line's `show`) --------------------------------------------
class TextStream:
    """Feed events in order; get back the text to write, chunks streamed inline."""

    def __init__(self):
        self._open = None  # kind of the chunk run being written, if any
        self._titles: dict[str, str] = {}  # tool_call_id -> title, for updates that omit it

    def _line(self, text: str) -> str:
        prefix = "\n" if self._open else ""
        self._open = None
        return prefix + text + "\n"

    def feed(self, ev: dict) -> str:
        kind, d = ev["kind"], ev.get("data") or {}
        if kind in ("agent_message_chunk", "agent_thought_chunk"):
            out = ""
            if self._open != kind:
                out = ("\n" if self._open else "") + ("Agent: " if kind == "agent_message_chunk" else "(thinking) ")
                self._open = kind
            return out + d.get("text", "")
        if kind == "user_message":
            return self._line(f"\nUser: {d.get('text', '')}{attached(d)}")
        if kind == "tool_call":
            self._titles[d.get("tool_call_id")] = d.get("title") or d.get("kind") or "tool"
            return self._line(f"  [tool] {self._titles[d.get('tool_call_id')]} ({d.get('status') or 'pending'})")
        if kind == "tool_call_update":
            if d.get("status") in ("completed", "failed"):
                title = d.get("title") or self._titles.get(d.get("tool_call_id"), d.get("tool_call_id"))
                return self._line(f"  [tool] {title}: {d['status']}")
            return ""
        if kind == "plan":
            marks = {"completed": "x", "in_progress": "~"}
            lines = [f"  [{marks.get(e.get('status'), ' ')}] {e.get('content')}" for e in d.get("entries", [])]
            return self._line("  Plan:\n" + "\n".join(lines))
        if kind == "permission_request":
            opts = ", ".join(f"{o['name']} ({o['option_id']})" for o in d.get("options", []))
            title = (d.get("tool_call") or {}).get("title", "")
            return self._line(f"  [permission {d.get('request_id')}] {title}: {opts}")
        if kind == "permission_answer":
            return self._line(f"  [permission {d.get('request_id')}] {d.get('outcome')} {d.get('option_id') or ''}".rstrip())
        if kind == "turn_end":
            files = ", ".join(d.get("files") or [])
            commands = ", ".join(d.get("commands") or [])
            return self._line(f"  -- turn {d.get('turn')} ended: {d.get('stop_reason')}" + (f"; files: {files}" if files else "")
                              + (f"; ran: {commands}" if commands else ""))
        if kind == "state":
            return self._line(f"  -- {d.get('state')}")
        if kind == "resume":
            return self._line(f"  -- resumed ({d.get('via')}): {d.get('detail', '')}")
        if kind == "process_exit":
            return self._line(f"  -- agent process exited (code {d.get('code')}, signal {d.get('signal')})")
        if kind == "stderr":
            return self._line("  stderr: " + "\n  stderr: ".join(d.get("lines", [])))
        if kind == "notice":
            return self._line(f"  [{d.get('level', 'info')}] {d.get('text', '')}")
        if kind == "config_change":
            return self._line(f"  -- {agent_state.change_line(d)}")
        return ""  # turn_start, process_start, session_info, usage, commands: nothing a reader needs


def attached(data: dict) -> str:
    """" [attached: df, sales.ipynb]" for a user message that carried context."""
    names = [c.get("name", "") for c in data.get("context") or []]
    return f"  [attached: {', '.join(names)}]" if names else ""


# -- the fold used by snapshots -------------------------------------------------------------
class Transcript:
    def __init__(self):
        self.blocks: list[dict] = []
        self._tools: dict[tuple, dict] = {}
        self._plans: dict[int | None, dict] = {}
        self._perms: dict[str, dict] = {}

    def feed(self, ev: dict) -> None:
        kind, d = ev["kind"], dict(ev.get("data") or {})
        last = self.blocks[-1] if self.blocks else None
        if kind in ("agent_message_chunk", "agent_thought_chunk"):
            if last and last["kind"] == kind and last.get("turn") == ev.get("turn"):
                last["text"] += d.get("text", "")
            else:
                self.blocks.append({"kind": kind, "turn": ev.get("turn"), "text": d.get("text", "")})
        elif kind in ("tool_call", "tool_call_update"):
            # Keyed by turn as well: agents may number their tool calls per turn.
            key = (ev.get("turn"), d.get("tool_call_id"))
            fields = {("tool_kind" if k == "kind" else k): v for k, v in d.items()}
            block = self._tools.get(key)
            if block is None:
                block = self._tools[key] = {**fields, "kind": "tool_call"}
                self.blocks.append(block)
            else:
                block.update({k: v for k, v in fields.items() if v is not None})
        elif kind == "plan":
            # The plan as it stands: one per turn, updated in place (as the live view draws it).
            plan = self._plans.get(ev.get("turn"))
            if plan is None:
                plan = self._plans[ev.get("turn")] = {"kind": "plan"}
                self.blocks.append(plan)
            plan["entries"] = d.get("entries", [])
        elif kind == "permission_request":
            block = {"kind": "permission", **d, "answer": None}
            self._perms[d.get("request_id")] = block
            self.blocks.append(block)
        elif kind == "permission_answer":
            if d.get("request_id") in self._perms:
                self._perms[d["request_id"]]["answer"] = d
        elif kind in ("user_message", "turn_end", "resume", "notice", "process_exit", "stderr", "config_change"):
            self.blocks.append({"kind": kind, **d, "ts": ev.get("ts")})


def _md(text: str) -> str:
    markdown = _snapshot_markdown()
    if markdown is None:
        return f'<div style="white-space:pre-wrap">{html.escape(text)}</div>'
    return markdown(text)


@functools.lru_cache(maxsize=1)
def _snapshot_markdown():
    """Markdown for snapshots: raw HTML escaped, and no image fetched by itself (see image_placeholder)."""
    try:
        import mistune  # comes with nbconvert, i.e. with jupyter_server
    except ImportError:
        return None

    class NoRemoteImages(mistune.HTMLRenderer):
        def image(self, text: str, url: str, title: str | None = None) -> str:
            if url.startswith("data:image/"):
                return super().image(text, url, title)
            # safe_url drops harmful schemes and HTML-escapes; the placeholder escapes itself.
            return image_placeholder(html.unescape(self.safe_url(url)),
                                     html.unescape(mistune.util.striptags(text)))

    return mistune.create_markdown(escape=True, renderer=NoRemoteImages(escape=True))


def image_placeholder(url: str, alt: str) -> str:
    """An image the snapshot does not load: a notebook shared with it would otherwise fetch the
    URL for every reader (an agent can put data in one). Its host, its alt text, and a link."""
    e = html.escape
    host = urllib.parse.urlsplit(url).netloc or url
    alt_part = f' <span style="color:#57606a">· {e(alt)}</span>' if alt else ""
    return (
        '<span class="glue-remote-image" style="display:inline-block;border:1px dashed #8c959f;'
        'border-radius:4px;padding:1px 6px;margin:1px 0">'
        f'Image from <b>{e(host)}</b>{alt_part} · '
        f'<a href="{e(url)}" target="_blank" rel="noopener noreferrer nofollow" title="{e(url)}">open</a></span>'
    )


def _clock(ts: float | None) -> str:
    return time.strftime("%H:%M", time.localtime(ts)) if ts else ""


LIVE_STATES = frozenset({"starting", "running", "interrupting", "stopping"})


def snapshot_html(session: dict, events: list[dict], omitted: int = 0, taken_at: float | None = None) -> str:
    """A self-contained, readable HTML rendering (inline styles only: no script, no classes
    that need a stylesheet), for notebooks opened without a kernel or a widget manager.

    It says when it was taken and links to the live view (`#glue-session=ID`: JupyterLab with
    glue_jupyter opens the session from that link). A state that was changing then ("running")
    is shown as past, with a hollow dot: it is not live.
    """
    t = Transcript()
    for ev in events:
        t.feed(ev)
    e = html.escape
    state = session.get("state") or ""
    taken = time.strftime("%d %b %Y, %H:%M", time.localtime(taken_at or time.time()))
    if state in LIVE_STATES:
        dot = '<span style="color:#8c959f" title="not live: the state when the snapshot was taken">○</span>'
        then = f"was {state} then"
    else:
        dot = f'<span style="color:{HTML_COLOURS.get(state, "#8c959f")}">●</span>'
        then = status_line(session)
    sid = e(session.get("id", ""))
    out = [
        '<div class="glue-snapshot" style="border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;font-size:13px">',
        '<div style="display:flex;flex-wrap:wrap;gap:4px 12px;align-items:baseline;color:#57606a;font-size:12px;'
        'border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-bottom:4px">'
        f'<span class="glue-snapshot-when">Snapshot from {e(taken)}</span>'
        f'<a class="glue-open-live" href="#glue-session={sid}" data-glue-session="{sid}" '
        'style="margin-left:auto">Open live view</a></div>',
        f'<div style="font-weight:600">{dot} {e(session.get("title") or "untitled")}'
        f' <span style="font-weight:normal;color:#57606a">· {e(session.get("agent", ""))} · {e(session.get("cwd", ""))}'
        f' · {e(then)} · session {sid[:8]}</span></div>',
    ]
    if omitted:
        out.append(f'<div style="color:#57606a">… {omitted} earlier events not shown</div>')
    for b in t.blocks:
        k = b["kind"]
        if k == "user_message":
            chips = "".join(
                f'<details style="display:inline-block;margin:2px 4px 0 0"><summary style="color:#57606a">'
                f'📎 {e(c.get("name", ""))}</summary><pre style="margin:2px 0;max-height:20em;overflow:auto">'
                f'{e(c.get("text") or c.get("uri", ""))}</pre></details>' for c in b.get("context") or [])
            when = f' <span style="color:#57606a;font-weight:normal">· {_clock(b.get("ts"))}</span>' if b.get("ts") else ""
            out.append(f'<div style="margin-top:8px"><b>You</b>{when}<div style="white-space:pre-wrap">{e(b.get("text", ""))}</div>{chips}</div>')
        elif k == "agent_message_chunk":
            out.append(f'<div style="margin-top:4px"><b>Agent</b>{_md(b["text"])}</div>')
        elif k == "agent_thought_chunk":
            out.append(f'<details><summary style="color:#57606a">Thought</summary><div style="white-space:pre-wrap">{e(b["text"])}</div></details>')
        elif k == "tool_call":
            body = []
            for c in b.get("content") or []:
                if c.get("type") == "text":
                    body.append(f'<pre style="margin:2px 0">{e(c.get("text", ""))}</pre>')
                elif c.get("type") == "diff":
                    body.append(f'<pre style="margin:2px 0">--- {e(c.get("path", ""))}\n{e(c.get("new_text") or "")}</pre>')
            out.append(f'<div>🔧 {e(b.get("title") or b.get("tool_kind") or "tool")} <i>({e(b.get("status") or "pending")})</i>{"".join(body)}</div>')
        elif k == "plan":
            items = "".join(
                f'<li>{"☑" if x.get("status") == "completed" else "☐"} {e(x.get("content", ""))}</li>'
                for x in b.get("entries", [])
            )
            out.append(f'<div>Plan<ul style="list-style:none;margin:2px 0">{items}</ul></div>')
        elif k == "permission":
            title = e((b.get("tool_call") or {}).get("title", ""))
            ans = b.get("answer")
            verdict = "waiting" if ans is None else e(ans.get("option_id") or ans.get("outcome", ""))
            out.append(f"<div>🔐 Permission: {title} — <i>{verdict}</i></div>")
        elif k == "turn_end":
            files = ", ".join(b.get("files") or [])
            commands = ", ".join(b.get("commands") or [])
            out.append(
                f'<div style="color:#57606a;border-top:1px dashed #d0d7de;margin-top:4px">turn {e(str(b.get("turn")))}'
                f' ended: {e(str(b.get("stop_reason")))}{" · " + _clock(b.get("ts")) if b.get("ts") else ""}'
                f'{" · files: " + e(files) if files else ""}'
                f'{" · ran: " + e(commands) if commands else ""}</div>'
            )
        elif k == "resume":
            out.append(f'<div style="color:#57606a">resumed ({e(str(b.get("via")))}): {e(b.get("detail", ""))}</div>')
        elif k == "notice":
            out.append(f'<div style="color:#9a6700">{e(b.get("text", ""))}</div>')
        elif k == "config_change":
            out.append(f'<div style="color:#57606a">{e(agent_state.change_line(b))}</div>')
        elif k == "process_exit":
            out.append(f'<div style="color:#57606a">agent process exited (code {e(str(b.get("code")))})</div>')
    out.append("</div>")
    return "".join(out)


def snapshot_text(session: dict, events: list[dict], omitted: int = 0) -> str:
    s = TextStream()
    head = f"{session.get('title') or 'untitled'} [{session.get('agent')}] {session.get('cwd')} — {status_line(session)}"
    body = "".join(s.feed(ev) for ev in events)
    more = f"… {omitted} earlier events not shown\n" if omitted else ""
    return f"{head}\n{more}{body}".rstrip() + "\n"
