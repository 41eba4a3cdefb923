"""Messages sent while a turn runs: queued, editable, removable, sent when the turn ends.

The queue is part of the transcript: `message_queued`, `queued_message_edited` and
`queued_message_removed` events record it, so every surface shows the same queue and a
restarted server rebuilds it from the log. A queued message leaves the queue as the
`user_message` of the turn it starts (`queued_id` names it), or as a steering message
injected into the running turn where the agent supports that (`steered: true`).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Callable

from .errors import GlueError, IllegalControl, InvalidRequest
from .states import State

WHEN = ("queue", "now")
QUEUE_LIMIT = 100


@dataclass
class Queued:
    id: str
    text: str
    context: list[dict] = field(default_factory=list)
    created_at: float = 0.0
    now: bool = False   # "Send now": goes first, the turn in progress is interrupted for it

    def to_json(self) -> dict:
        data = asdict(self)
        if not data["context"]:
            data.pop("context")
        return data


class UnknownQueuedMessage(GlueError):
    def __init__(self, session_id: str, message_id: str):
        super().__init__(f"Session {session_id} has no queued message {message_id!r} "
                         "(it may have been sent or removed already).")


class MessageQueue:
    def __init__(self, session_id: str, record: Callable[[str, dict, "int | None"], None]):
        self.session_id = session_id
        self._record = record
        self.items: list[Queued] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def snapshot(self) -> list[dict]:
        return [item.to_json() for item in self.items]

    def add(self, text: str, context: list[dict] | None = None, *, now: bool = False,
            turn: int | None = None) -> Queued:
        if len(self.items) >= QUEUE_LIMIT:
            raise InvalidRequest(f"Session {self.session_id} already has {QUEUE_LIMIT} queued messages; "
                                 "remove some or wait for the agent.")
        item = Queued(uuid.uuid4().hex[:12], text, list(context or []), round(time.time(), 4), now)
        if now:  # ahead of every queued message, behind other "now" ones
            position = sum(1 for existing in self.items if existing.now)
            self.items.insert(position, item)
        else:
            self.items.append(item)
        data = {"id": item.id, "text": text, "now": now, "position": self.items.index(item)}
        if item.context:
            data["context"] = item.context
        self._record("message_queued", data, turn)
        return item

    def get(self, message_id: str) -> Queued:
        for item in self.items:
            if item.id == message_id:
                return item
        raise UnknownQueuedMessage(self.session_id, message_id)

    def edit(self, message_id: str, text: str, turn: int | None = None) -> Queued:
        item = self.get(message_id)
        item.text = text
        self._record("queued_message_edited", {"id": message_id, "text": text}, turn)
        return item

    def remove(self, message_id: str, reason: str = "removed", turn: int | None = None) -> Queued:
        item = self.get(message_id)
        self.items.remove(item)
        self._record("queued_message_removed", {"id": message_id, "reason": reason}, turn)
        return item

    def take(self, message_id: str) -> Queued | None:
        """Remove a message that is being sent (the caller records its user_message)."""
        for item in self.items:
            if item.id == message_id:
                self.items.remove(item)
                return item
        return None

    def pop(self) -> Queued | None:
        """The next message to send; the caller records it as the turn's user_message."""
        return self.items.pop(0) if self.items else None

    def rebuild(self, events: list[dict]) -> None:
        """The queue as the log left it (after a restart)."""
        items: dict[str, Queued] = {}
        order: list[str] = []
        for event in events:
            kind, data = event["kind"], event["data"]
            if kind == "message_queued":
                items[data["id"]] = Queued(data["id"], data["text"], data.get("context") or [], event["ts"],
                                           bool(data.get("now")))
                order.insert(data.get("position", len(order)), data["id"])
            elif kind == "queued_message_edited" and data["id"] in items:
                items[data["id"]].text = data["text"]
            elif kind == "queued_message_removed" and data["id"] in items:
                order.remove(data["id"])
                del items[data["id"]]
            elif kind == "user_message" and data.get("queued_id") in items:
                order.remove(data["queued_id"])
                del items[data["queued_id"]]
        self.items = [items[i] for i in order]


def check_when(when) -> str:
    if when is None:
        return "queue"
    if when not in WHEN:
        raise InvalidRequest(f"when must be one of: {', '.join(WHEN)} (not {when!r}).")
    return when


async def send_or_queue(session, text: str, context: list[dict], when: str | None) -> None:
    """A message for `session`: sent now when it is idle, else queued; with `when="now"` the
    turn in progress is steered (natively, where the agent can) or interrupted for it."""
    when = check_when(when)
    async with session.control("prompt"):   # stopped, failed, stopping: refused with advice
        state = session.state
        busy = session.workspace is not None and session.workspace.operation
        if state is State.IDLE and not busy and not session.queue:
            session._prompt(text, context)
            return
        if state is State.PAUSED and when == "now":
            raise IllegalControl(session.id, "send a message now to", state.value,
                                 "Resume it first, or queue the message (it is sent when the turn ends).")
        turn = session.turn.number if session.turn else None
        item = session.queue.add(text, context, now=when == "now", turn=turn)
        session.log.flush()
        session._notify()
        if state is State.IDLE:
            if not busy:  # a queue not flushed yet: its first message goes now
                first = session.queue.pop()
                session._prompt(first.text, first.context, queued_id=first.id)
            return
        if when != "now" or state is not State.RUNNING:
            return
    # Outside the turnstile: interrupting takes it, and a stop must be able to overtake us.
    if session.driver is not None and session.driver.can_steer and await session.steer(item):
        return
    if session.state is State.RUNNING:
        with contextlib.suppress(IllegalControl):   # ended meanwhile: the queue sends it anyway
            await session.interrupt()


QUEUE_KINDS = ("message_queued", "queued_message_edited", "queued_message_removed")


def load_queues(db) -> dict[str, list[dict]]:
    """The queue events of every session that ever queued a message, oldest first, with the
    user_messages that sent them: what `MessageQueue.rebuild` needs after a restart.
    A partial index keeps this cheap however long the transcripts are."""
    import json

    marks = ", ".join(f"'{k}'" for k in QUEUE_KINDS)
    db.execute(f"CREATE INDEX IF NOT EXISTS events_queue ON events(session_id, seq) WHERE kind IN ({marks})")
    rows = db.execute(f"SELECT session_id, MIN(seq) FROM events WHERE kind IN ({marks}) GROUP BY session_id").fetchall()
    queues: dict[str, list[dict]] = {}
    for session_id, first in rows:
        cur = db.execute(
            f"SELECT seq, ts, kind, data FROM events WHERE session_id = ? AND seq >= ? "
            f"AND (kind IN ({marks}) OR kind = 'user_message') ORDER BY seq", (session_id, first))
        queues[session_id] = [{"seq": seq, "ts": ts, "kind": kind, "data": json.loads(data)}
                              for seq, ts, kind, data in cur]
    return queues
