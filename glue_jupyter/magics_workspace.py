"""``%glue`` subcommands for a session's files, queue and forks (mixed into GlueMagics):
diff, rewind, checkpoints, worktree, merge, discard, fork, queue.

A notebook cell cannot ask "are you sure?", so what changes files (rewind, discard) shows
what it would do and asks for the same line again with --yes.
"""

from __future__ import annotations

from html import escape

from .client.changes import (format_changes, format_queue, format_worktree, last_turn, latest_rewind,
                             queued_id, summary)

DIFF_COLOURS = {"+": "#1a7f37", "-": "#cf222e", "@": "#0969da"}


def changes_html(title: str, changes: dict, diffs: bool = True) -> str:
    """A turn's changes for a notebook's output area: file list, then coloured diffs."""
    from .client.changes import stat_line

    rows = "".join(f"<li><code>{escape(stat_line(c))}</code></li>" for c in changes.get("changes", []))
    parts = [f"<div><b>{escape(title)}</b> — {escape(summary(changes))}<ul style='margin:4px 0'>{rows}</ul>"]
    if changes.get("skipped"):
        parts.append(f"<div>Not checkpointed (too large): {escape(', '.join(changes['skipped']))}</div>")
    if changes.get("note"):
        parts.append(f"<div style='opacity:.7'>{escape(changes['note'])}</div>")
    for change in changes.get("changes", []) if diffs else []:
        if not change.get("diff"):
            continue
        lines = []
        for line in change["diff"].rstrip("\n").splitlines():
            colour = DIFF_COLOURS.get(line[:1]) if not line.startswith(("+++", "---")) else None
            style = f" style='color:{colour}'" if colour else ""
            lines.append(f"<span{style}>{escape(line)}</span>")
        parts.append("<pre style='font-size:12px;line-height:1.35;margin:6px 0'>" + "\n".join(lines) + "</pre>")
    return "".join(parts) + "</div>"


class WorkspaceMagics:
    """Needs from GlueMagics: client, current, rich, _target, _looks_like_id, _table, _widgets,
    _display."""

    def _emit(self, text: str, html: str | None = None) -> None:
        if html is None or not self.rich:
            print(text)
        else:
            from IPython.display import display

            display({"text/plain": text, "text/html": html}, raw=True)

    def _options(self, rest: str, allowed: dict, verb: str, allow_text: bool = False):
        from .magics import _usage, parse_options

        opts, extra = parse_options(rest, allowed)
        if extra and not allow_text:
            raise _usage(f"unexpected {extra!r} after %glue {verb}")
        return opts, extra

    @staticmethod
    def _usage_error(message: str):
        from .magics import _usage

        return _usage(message)

    @staticmethod
    def _label_of(session: dict) -> str:
        from .magics import _label

        return _label(session)

    def _split_ref(self, rest: str) -> tuple[str | None, str]:
        """(the session ID the command line starts with, or None; the rest of the line)."""
        first = rest.split(None, 1)[0] if rest else ""
        if first and not first.startswith("-") and self._looks_like_id(first):
            return first, rest[len(first):].strip()
        return None, rest

    def _show_changes(self, title: str, changes: dict, diffs: bool = True) -> None:
        text = f"{title}: " + format_changes(changes, diffs=diffs)
        self._emit(text, changes_html(title, changes, diffs) if self.rich else None)

    def _cmd_diff(self, rest):
        ref, rest = self._split_ref(rest)
        opts, extra = self._options(rest, {"--turn": "turn", "-t": "turn", "--stat": "stat"}, "diff")
        sid = self._target(ref)
        turn = _number(opts.get("turn"), "--turn") or last_turn(self.client.get(sid))
        changes = self.client.changes(sid, turn)
        live = " (still running: compared with the folder now)" if changes.get("live") else ""
        self._show_changes(f"Turn {turn}{live}", changes, diffs=not opts.get("stat"))

    def _cmd_rewind(self, rest):
        ref, rest = self._split_ref(rest)
        opts, _ = self._options(rest, {"--to-turn": "turn", "-t": "turn", "--to": "checkpoint", "--undo": "undo",
                                       "--yes": "yes"}, "rewind")
        sid = self._target(ref)
        if opts.get("undo"):
            where = {"to_checkpoint": latest_rewind(self.client, sid)}
        elif opts.get("checkpoint"):
            where = {"to_checkpoint": opts["checkpoint"]}
        else:
            where = {"to_turn": _number(opts.get("turn"), "--to-turn") or last_turn(self.client.get(sid))}
        if not opts.get("yes"):
            preview = self.client.rewind_preview(sid, **where)
            if not preview["changes"]:
                print(f"glue: nothing to rewind: the files are as they were {preview['label']}")
                return
            self._show_changes(f"Rewinding to {preview['label']} would change", preview, diffs=True)
            again = " ".join(part for part in (ref, rest, "--yes") if part)
            print(f"glue: nothing changed yet. To do it: %glue rewind {again}")
            return
        done = self.client.rewind(sid, **where)["rewind"]
        print(f"glue: rewound {done['files']} file(s) to {done['label']}; undo with %glue rewind --undo --yes")

    def _cmd_checkpoints(self, rest):
        ref, rest = self._split_ref(rest)
        if rest:
            raise self._usage_error("%glue checkpoints takes at most one ID")
        items = self.client.checkpoints(self._target(ref))
        self._table([(i["name"], i["label"], i["commit"][:12]) for i in items], ("checkpoint", "state of the files", "commit"))

    def _cmd_worktree(self, rest):
        ref, rest = self._split_ref(rest)
        opts, _ = self._options(rest, {"--diff": "diff"}, "worktree")
        tree = self.client.worktree(self._target(ref))
        self._show_changes(format_worktree(tree), tree, diffs=bool(opts.get("diff")))

    def _cmd_merge(self, rest):
        ref, rest = self._split_ref(rest)
        if rest:
            raise self._usage_error("%glue merge takes at most one ID")
        merge = self.client.merge(self._target(ref))["merge"]
        print(f"glue: {merge['how']}: {merge['branch']} → {merge['base']} at {merge['commit'][:12]}")

    def _cmd_discard(self, rest):
        ref, rest = self._split_ref(rest)
        opts, _ = self._options(rest, {"--yes": "yes"}, "discard")
        sid = self._target(ref)
        if not opts.get("yes"):
            tree = self.client.worktree(sid)
            self._show_changes(f"Discarding would throw away ({tree['ahead']} commit(s))", tree, diffs=False)
            print("glue: nothing changed yet. To do it: %glue discard --yes")
            return
        done = self.client.discard(sid)["discard"]
        print(f"glue: discarded; the worktree is at {done['base'] or 'its base'} again "
              "(undo with %glue rewind --undo --yes)")

    def _cmd_fork(self, rest):
        ref, rest = self._split_ref(rest)
        opts, title = self._options(rest, {"--turn": "turn", "-t": "turn", "--worktree": "worktree"}, "fork",
                                    allow_text=True)
        sid = self._target(ref)
        child = self.client.fork(sid, turn=_number(opts.get("turn"), "--turn"), title=title or None,
                                 isolate=True if opts.get("worktree") else None)
        self.current = child["id"]
        print(f"glue: forked {self._label_of(child)} from {sid[:8]} at turn "
              f"{child['workspace']['forked_from']['turn']}; it is this notebook's current session now")
        if self._widgets:
            self._display(child["id"])

    def _cmd_queue(self, rest):
        ref, rest = self._split_ref(rest)
        opts, text = self._options(rest, {"--remove": "remove", "--send-now": "now", "--edit": "edit"}, "queue",
                                   allow_text=True)
        sid = self._target(ref)
        session = self.client.get(sid)
        if not text and not opts:
            print(format_queue(session))
            return
        if "edit" in opts:  # %glue queue --edit 2 new text
            number, _, new_text = (opts["edit"] + " " + text).partition(" ")
            session = self.client.edit_queued(sid, queued_id(session, number), new_text.strip())
        elif opts.get("remove"):
            session = self.client.remove_queued(sid, queued_id(session, text))
        elif opts.get("now"):
            session = self.client.send_queued_now(sid, queued_id(session, text))
        else:
            raise self._usage_error("%glue queue [ID] [--remove N | --send-now N | --edit N TEXT]")
        print(format_queue(session))


def _number(value, option: str) -> int | None:
    if value is None:
        return None
    if not str(value).isdigit() or int(value) < 1:
        from IPython.core.error import UsageError

        raise UsageError(f"{option} takes a turn number (1, 2, …), not {value!r}")
    return int(value)
