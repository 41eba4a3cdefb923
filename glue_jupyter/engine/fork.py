"""Fork: a new session that starts from another at turn N.

The new session gets its own copy of the transcript up to turn N (so it reads, searches and
resumes on its own), a `forked_from` event saying where it came from, and its parent a
`fork` event listing it. The conversation continues natively where the agent can
(`session/fork` on the parent's live process, at its latest turn, then `session/load` in the
fork's own process); otherwise a fresh agent session is seeded with the transcript up to N.
Files: a fork of a session with a worktree gets its own worktree, holding the parent's files
as they were after turn N; a fork without one works in the same folder as its parent.
"""

from __future__ import annotations

import time
import uuid

from .errors import IllegalControl, InvalidRequest
from .resume import SEED_CHAR_LIMIT, build_seed
from .states import State

# What a fork keeps of its parent's turns: the conversation and what happened in it.
LIFECYCLE_ONLY = frozenset({"state", "process_start", "process_exit", "stderr", "resume"})


async def fork(manager, session_id: str, turn: int | None = None, title: str | None = None,
               isolate: bool | None = None) -> dict:
    parent = manager.session(session_id)
    last = parent.row["turns"]
    turn = last if turn is None else turn
    if not isinstance(turn, int) or isinstance(turn, bool) or not 1 <= turn <= max(last, 0):
        raise InvalidRequest(f"Session {session_id} has turns 1 to {last}; cannot fork at turn {turn!r}."
                             if last else f"Session {session_id} has no turn yet: prompt it before forking.")
    if parent.turn is not None and parent.turn.number == turn:
        raise IllegalControl(session_id, f"fork at turn {turn}", "still running that turn",
                             f"Wait for it to end, or fork at turn {turn - 1}." if turn > 1 else "Wait for it to end.")
    if title is not None and not isinstance(title, str):
        raise InvalidRequest("title must be a string.")
    spec = manager._spec(parent.row["agent"])
    manager._claim_slot()
    parent_tree = parent.workspace.worktree if parent.workspace else None
    isolate = parent_tree is not None if isolate is None else bool(isolate)

    new_id = uuid.uuid4().hex
    workspace = manager.workspaces.prepare(new_id, parent.row["cwd"])
    folder = parent.row["cwd"]
    seeded_files = None
    if isolate:
        checkpoint = await _checkpoint_after(parent, turn)
        start = await _parent_commit(parent, checkpoint)
        folder = str(await manager.workspaces.guarded(workspace.create_worktree(
            title or parent.row["title"], inherit=parent_tree, start=start)))
        if checkpoint:
            try:
                seeded_files = await manager.workspaces.guarded(workspace.seed_files(checkpoint))
            except BaseException:
                await workspace.forget()   # no worktree left behind by a fork that did not happen
                raise

    now = time.time()
    copied = [e for e in manager.store.events(session_id) if e["turn"] is not None and e["turn"] <= turn
              and e["kind"] not in LIFECYCLE_ONLY]
    row = {
        "id": new_id, "title": (title or "").strip() or f"{parent.row['title'] or 'untitled'} (fork at turn {turn})",
        "agent": parent.row["agent"], "cwd": folder, "state": State.STARTING.value, "created_at": now,
        "updated_at": now, "paused_since": None, "last_seq": len(copied), "exit_code": None,
        "resumed_via": None, "agent_session_id": None, "turns": turn, "error": None,
        "seen_seq": len(copied), "attention_seq": 0, "notebook": parent.row.get("notebook"),
        # The mode, model and options the user chose for the parent hold for the fork too:
        # re-applied on the fork's own agent session once it is open (as after a resume).
        "config": parent.row.get("config"), "config_chosen": parent.row.get("config_chosen"),
    }
    manager.store.insert_session(row)
    if copied:
        manager.store.append_events(new_id, [{**e, "seq": i, "session_id": new_id} for i, e in enumerate(copied, 1)],
                                    activity=now)
    session = manager._add_session(row)  # its workspace is attached there, in the fork's folder
    session.workspace.note_forked_from(session_id, turn)
    native = parent.state is State.IDLE and parent.driver is not None and parent.driver.can_fork and turn == last
    session._record("state", {"state": "starting", "previous": None})
    where = (f"in its own worktree ({workspace.worktree.branch}), holding the files as they were after turn {turn}"
             if isolate else f"in the same folder as the session it came from ({folder})")
    agent_sid = None
    if native:
        try:
            agent_sid = await parent.driver.fork_session(parent.row["agent_session_id"], folder)
        except Exception as exc:  # the agent advertised it but refused: seed instead
            native, why = False, f"the agent's session/fork failed ({exc}); "
    else:
        why = ("" if parent.driver is None or parent.driver.can_fork else "the agent cannot fork sessions; ")
        if parent.driver is not None and parent.driver.can_fork and turn != last:
            why = f"the agent forks only at its latest turn ({last}); "
        elif parent.state is not State.IDLE and parent.driver is not None:
            why = f"the parent is {parent.state.value}; "
    session._record("forked_from", {"session": session_id, "turn": turn, "title": parent.row["title"],
                                    "via": "native" if native else "seeded", "where": where,
                                    "files": seeded_files}, None)
    parent.workspace.note_fork(new_id, turn)
    parent._record("fork", {"session": new_id, "turn": turn, "title": row["title"]}, None)
    parent.log.flush()
    parent._notify()
    async with session._turnstile:   # the launch is the fork's first control
        if native:
            session._update(agent_session_id=agent_sid)
            await session._launch(spec, resume=True, reason="forked with the agent's session/fork; ")
        else:
            await session._launch(spec, resume=False)
            if session.state is State.IDLE:
                session._seed, count = build_seed(manager.store, new_id, SEED_CHAR_LIMIT)
                session._resumed("seeded", f"{why}new agent session seeded with the transcript up to "
                                           f"turn {turn} ({count} messages)")
    session.log.flush()
    session._notify()
    return session.snapshot()


async def _checkpoint_after(parent, turn: int) -> str | None:
    if parent.workspace is None:
        return None
    try:
        snapshotter = await parent.workspace.snapshotter()
    except Exception:
        return None
    return await snapshotter.resolve(parent.workspace.ref(f"turn-{turn}-after"))


async def _parent_commit(parent, checkpoint: str | None) -> str | None:
    """The commit the checkpoint was taken on (its parent), where the fork's branch starts."""
    if checkpoint is None:
        return None
    snapshotter = await parent.workspace.snapshotter()
    return await snapshotter.resolve(f"{checkpoint}^")
