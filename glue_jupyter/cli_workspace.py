"""``jupyter glue`` commands for a session's files, queue and forks: diff, rewind, checkpoints,
worktree, merge, discard, fork, queue. cli.py adds them to its parser and command table."""

from __future__ import annotations

import sys

from .client.changes import (format_changes, format_queue, format_worktree, last_turn, latest_rewind,
                             queued_id, summary)
from .client.errors import GlueClientError
from .client.resolve import resolve_id


def add_parsers(cmd) -> None:
    s = cmd("diff", "what a turn changed in the session's folder")
    s.add_argument("id")
    s.add_argument("--turn", "-t", type=int, help="which turn (default: the latest)")
    s.add_argument("--stat", action="store_true", help="files and counts only")
    s = cmd("rewind", "put the session's files back as they were before a turn (asks first)")
    s.add_argument("id")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--to-turn", "-t", type=int, help="before this turn (default: the latest)")
    where.add_argument("--to", dest="to_checkpoint", help="a checkpoint's name (see `checkpoints`)")
    where.add_argument("--undo", action="store_true", help="undo the latest rewind")
    s.add_argument("--yes", "-y", action="store_true", help="do not ask")
    cmd("checkpoints", "the session's checkpoints").add_argument("id")
    s = cmd("worktree", "the session's worktree: branch, ahead/behind, changes against its base")
    s.add_argument("id")
    s.add_argument("--diff", action="store_true", help="show the diff too")
    cmd("merge", "merge the session's worktree branch into its base").add_argument("id")
    s = cmd("discard", "throw away the work in the session's worktree (asks first)")
    s.add_argument("id")
    s.add_argument("--yes", "-y", action="store_true", help="do not ask")
    s = cmd("fork", "start a new session from this one at a turn")
    s.add_argument("id")
    s.add_argument("--turn", "-t", type=int, help="at this turn (default: the latest)")
    s.add_argument("--title")
    s.add_argument("--worktree", action="store_true", default=None, help="in a worktree of its own")
    s = cmd("queue", "messages waiting for the turn to end: list, edit, remove, send now")
    s.add_argument("id")
    s.add_argument("message", nargs="?", help="a queued message: its number (1, 2, …) or id")
    action = s.add_mutually_exclusive_group()
    action.add_argument("--remove", action="store_true")
    action.add_argument("--send-now", action="store_true", help="interrupt (or steer) the turn and send it")
    action.add_argument("--edit", metavar="TEXT", help="replace its text")


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise GlueClientError(f"{question} — not asked on a non-interactive terminal; pass --yes to do it")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _asked_then(question: str, args, out, act, said) -> int | None:
    """Ask (unless --yes), act, then print what was done (or the JSON of it)."""
    if not _confirm(question, args.yes):
        print("nothing was changed")
        return 1
    done = act()
    return out.data(done) if out.json else print(said(done))


def cmd_diff(client, args, out):
    sid = resolve_id(client, args.id)
    turn = args.turn or last_turn(client.get(sid))
    changes = client.changes(sid, turn)
    if out.json:
        return out.data(changes)
    live = " (still running: compared with the folder now)" if changes.get("live") else ""
    print(f"turn {turn}{live}: " + format_changes(changes, out.colour, diffs=not args.stat))


def cmd_rewind(client, args, out):
    sid = resolve_id(client, args.id)
    if args.undo:
        where = {"to_checkpoint": latest_rewind(client, sid)}
    elif args.to_checkpoint:
        where = {"to_checkpoint": args.to_checkpoint}
    else:
        where = {"to_turn": args.to_turn or last_turn(client.get(sid))}
    preview = client.rewind_preview(sid, **where)
    if not out.json:
        print(f"Rewinding to {preview['label']} would change: " + format_changes(preview, out.colour, diffs=False))
    if not preview["changes"]:
        return out.data({"rewind": None, "preview": preview}) if out.json else print("nothing to rewind")
    return _asked_then(f"Rewind {summary(preview)}?", args, out, lambda: client.rewind(sid, **where),
                       lambda done: f"rewound {done['rewind']['files']} file(s) to {done['rewind']['label']}; "
                                    f"undo with: jupyter glue rewind {sid[:8]} --undo")


def cmd_checkpoints(client, args, out):
    sid = resolve_id(client, args.id)
    items = client.checkpoints(sid)
    if out.json:
        return out.data(items)
    if not items:
        print("no checkpoints yet")
    for item in items:
        print(f"{item['name']:<18} {item['label']:<22} {item['commit'][:12]}")


def cmd_worktree(client, args, out):
    sid = resolve_id(client, args.id)
    tree = client.worktree(sid)
    if out.json:
        return out.data(tree)
    print(format_worktree(tree))
    print(format_changes(tree, out.colour, diffs=args.diff))


def cmd_merge(client, args, out):
    sid = resolve_id(client, args.id)
    done = client.merge(sid)
    if out.json:
        return out.data(done)
    merge = done["merge"]
    print(f"{merge['how']}: {merge['branch']} → {merge['base']} at {merge['commit'][:12]}")


def cmd_discard(client, args, out):
    sid = resolve_id(client, args.id)
    tree = client.worktree(sid)
    if not out.json:
        print(format_worktree(tree))
        print(format_changes(tree, out.colour, diffs=False))
    return _asked_then(f"Throw away this work ({summary(tree)}, {tree['ahead']} commit(s))?", args, out,
                       lambda: client.discard(sid),
                       lambda done: f"discarded; the worktree is at {done['discard']['base'] or 'its base'} again. "
                                    f"Undo with: jupyter glue rewind {sid[:8]} --undo")


def cmd_fork(client, args, out):
    sid = resolve_id(client, args.id)
    child = client.fork(sid, turn=args.turn, title=args.title, isolate=args.worktree)
    out.session(child, f"forked from {sid[:8]} at turn {child['workspace']['forked_from']['turn']}")


def cmd_queue(client, args, out):
    sid = resolve_id(client, args.id)
    session = client.get(sid)
    if args.message is None:
        if args.remove or args.send_now or args.edit is not None:
            raise GlueClientError("say which queued message (its number or id)")
        return out.data(session["queue"]) if out.json else print(format_queue(session))
    mid = queued_id(session, args.message)
    if args.remove:
        session = client.remove_queued(sid, mid)
    elif args.send_now:
        session = client.send_queued_now(sid, mid)
    elif args.edit is not None:
        session = client.edit_queued(sid, mid, args.edit)
    else:
        item = next(q for q in session["queue"] if q["id"] == mid)
        return out.data(item) if out.json else print(item["text"])
    return out.data(session) if out.json else print(format_queue(session))


COMMANDS = {
    "diff": cmd_diff, "rewind": cmd_rewind, "checkpoints": cmd_checkpoints, "worktree": cmd_worktree,
    "merge": cmd_merge, "discard": cmd_discard, "fork": cmd_fork, "queue": cmd_queue,
}
