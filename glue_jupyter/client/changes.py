"""Changes (a turn's, a rewind preview's, a worktree's) as text for terminals, and the small
lookups the CLI and the magics share (which turn, which checkpoint, which queued message)."""

from __future__ import annotations

from .errors import GlueClientError

STATUS_MARK = {"added": "A", "modified": "M", "deleted": "D", "renamed": "R", "type changed": "T"}
COLOURS = {"+": "32", "-": "31", "@": "36", "d": "1"}


def stat_line(change: dict) -> str:
    mark = STATUS_MARK.get(change["status"], "?")
    name = f"{change['old_path']} → {change['path']}" if change.get("old_path") else change["path"]
    if change.get("binary"):
        counts = "binary"
    else:
        counts = f"+{change.get('added', 0)} −{change.get('removed', 0)}"
    modes = ""
    if change.get("old_mode") and change.get("new_mode") and change["old_mode"] != change["new_mode"]:
        modes = f"  mode {change['old_mode']} → {change['new_mode']}"
    return f"{mark} {name}  {counts}{modes}"


def summary(changes: dict) -> str:
    n = changes.get("files", len(changes.get("changes", [])))
    text = f"{n} file{'s' if n != 1 else ''} changed, +{changes.get('added', 0)} −{changes.get('removed', 0)}"
    if changes.get("binary"):
        text += f", {changes['binary']} binary"
    return text


def format_changes(changes: dict, colour: bool = False, diffs: bool = True) -> str:
    """A header line, one stat line per file, then (optionally) the diffs."""
    lines = [summary(changes)]
    lines += ["  " + stat_line(c) for c in changes.get("changes", [])]
    if changes.get("skipped"):
        lines.append("  not checkpointed (too large): " + ", ".join(changes["skipped"]))
    if changes.get("note"):
        lines.append(f"  ({changes['note']})")
    if diffs:
        for change in changes.get("changes", []):
            if change.get("diff"):
                lines.append("")
                lines += [_paint(line, colour) for line in change["diff"].rstrip("\n").splitlines()]
                if change.get("truncated"):
                    lines.append("… (diff cut at its size limit)")
    return "\n".join(lines)


def _paint(line: str, colour: bool) -> str:
    if not colour:
        return line
    key = "d" if line.startswith("diff --git") else line[:1]
    code = COLOURS.get(key) if not line.startswith(("+++", "---")) else "1"
    return f"\x1b[{code}m{line}\x1b[0m" if code else line


def last_turn(session: dict) -> int:
    if not session.get("turns"):
        raise GlueClientError(f"session {session['id'][:8]} has no turn yet")
    return session["turns"]


def latest_rewind(client, session_id: str) -> str:
    """The checkpoint that undoes the latest rewind (or discard)."""
    undo = [c["name"] for c in client.checkpoints(session_id) if c["name"].startswith(("rewind-", "discard-"))]
    if not undo:
        raise GlueClientError(f"session {session_id[:8]} has no rewind to undo")
    return undo[-1]


def queued_id(session: dict, ref: str) -> str:
    """A queued message by its position (1, 2, …) or a prefix of its id."""
    queue = session.get("queue") or []
    if ref.isdigit() and 1 <= int(ref) <= len(queue):
        return queue[int(ref) - 1]["id"]
    matches = [q["id"] for q in queue if q["id"].startswith(ref)]
    if len(matches) != 1:
        listed = ", ".join(f"{i}: {q['text'][:30]!r}" for i, q in enumerate(queue, 1)) or "the queue is empty"
        raise GlueClientError(f"no single queued message {ref!r} ({listed})")
    return matches[0]


def format_queue(session: dict) -> str:
    queue = session.get("queue") or []
    if not queue:
        return "nothing queued"
    return "\n".join(f"{i}. [{q['id'][:8]}]{' (now)' if q.get('now') else ''} {q['text']}"
                     for i, q in enumerate(queue, 1))


def format_worktree(tree: dict) -> str:
    base = tree.get("base") or f"{tree.get('base_commit', '')[:12]} (detached)"
    return (f"branch {tree['branch']} · {tree['ahead']} ahead, {tree['behind']} behind {base} · "
            f"{tree.get('uncommitted', 0)} uncommitted · {tree['path']}")
