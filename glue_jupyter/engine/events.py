"""The per-session event log: append-only, stored before published, replayable from any seq.

Appends are buffered for the rest of the current event-loop iteration and then written in one
transaction and published as one batch. Bursts (an agent flooding chunks) therefore cost one
commit, and consecutive message chunks of a turn are coalesced into a single event, which is
what keeps long transcripts cheap to store and fast to open.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from .store import Store

COALESCED_KINDS = frozenset({"agent_message_chunk", "agent_thought_chunk"})
MAX_COALESCED_CHARS = 64 * 1024
# A subscriber that falls this many events behind the live stream is dropped: it re-subscribes
# from the last seq it saw, which replays from the database instead of from our memory.
DEFAULT_SUBSCRIBER_LIMIT = 20_000


class SubscriberTooSlow(Exception):
    def __init__(self, last_seq: int):
        super().__init__(f"subscriber fell too far behind; re-subscribe from seq {last_seq}")
        self.last_seq = last_seq


class EventLog:
    def __init__(self, store: Store, session_id: str, last_seq: int, on_stored=None):
        self.store = store
        self.session_id = session_id
        self.stored_seq = last_seq  # highest seq in the database
        self._next_seq = last_seq + 1
        self._pending: list[dict] = []
        self._flush_scheduled = False
        self._subscribers: set[Subscription] = set()
        self._turn_text: dict[int, list[str]] = {}
        self._on_stored = on_stored  # callback(last_event) after each stored batch

    # appending ------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """The highest seq appended so far (stored or about to be)."""
        return self._next_seq - 1

    def append(self, kind: str, data: dict, turn: int | None = None) -> int:
        """Append an event (coalesced into the previous one when it continues it); its seq."""
        now = round(time.time(), 4)  # 0.1 ms: survives SQLite's 15-digit REAL-to-text exactly
        last = self._pending[-1] if self._pending else None
        if (
            kind in COALESCED_KINDS
            and last is not None
            and last["kind"] == kind
            and last["turn"] == turn
            and len(last["data"]["text"]) < MAX_COALESCED_CHARS
        ):
            last["data"]["text"] += data.get("text", "")
        else:
            event = {"seq": self._next_seq, "session_id": self.session_id, "ts": now,
                     "kind": kind, "turn": turn, "data": data}
            self._next_seq += 1
            self._pending.append(event)
        if kind == "agent_message_chunk" and turn is not None:
            self._turn_text.setdefault(turn, []).append(data.get("text", ""))
        self._schedule_flush()
        return self._next_seq - 1

    def _schedule_flush(self) -> None:
        if self._flush_scheduled:
            return
        self._flush_scheduled = True
        try:
            asyncio.get_running_loop().call_soon(self.flush)
        except RuntimeError:  # no loop (tests, tools): store right away
            self.flush()

    def flush(self) -> None:
        """Store what is pending, then publish it. Safe to call at any time."""
        self._flush_scheduled = False
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self.store.append_events(self.session_id, batch, activity=batch[-1]["ts"])
        self.stored_seq = batch[-1]["seq"]
        self._index(batch)
        for sub in list(self._subscribers):
            sub._deliver(batch)
        if self._on_stored:
            self._on_stored(batch[-1])

    def _index(self, batch: list[dict]) -> None:
        for event in batch:
            if event["kind"] == "user_message":
                self.store.index_text(self.session_id, f"user:{event['seq']}", event["data"].get("text", ""))
            elif event["kind"] == "turn_end":
                self.index_turn(event["data"].get("turn"))

    def index_turn(self, turn: int | None) -> None:
        parts = self._turn_text.pop(turn, None)
        if parts:
            self.store.index_text(self.session_id, f"agent:{turn}", "".join(parts))

    # reading --------------------------------------------------------------------------

    def events(self, after_seq: int = 0, limit: int | None = None) -> list[dict]:
        self.flush()
        return self.store.events(self.session_id, after_seq, limit)

    def events_json(self, after_seq: int = 0, limit: int | None = None) -> list[str]:
        self.flush()
        return self.store.events_json(self.session_id, after_seq, limit)

    def subscribe(self, after_seq: int = 0, limit: int = DEFAULT_SUBSCRIBER_LIMIT) -> Subscription:
        self.flush()
        sub = Subscription(self, max(0, after_seq), limit)
        self._subscribers.add(sub)
        return sub

    def close(self) -> None:
        """End every subscription (the session is being forgotten)."""
        for sub in list(self._subscribers):
            sub.close()


class Subscription:
    """Replay from the database up to the seq stored at subscription time, then live batches.

    Registration and the replay bound happen in the same synchronous step, so the live part
    starts exactly after the replayed part: no gap, no duplicate.
    """

    def __init__(self, log: EventLog, after_seq: int, limit: int):
        self._log = log
        self._replay_after = after_seq
        self._replay_upto = log.stored_seq
        self._live: deque[list[dict]] = deque()
        self._live_count = 0
        self._limit = limit
        self._wakeup = asyncio.Event()
        self._closed = False
        self._overflowed = False
        self.last_seq = after_seq

    @property
    def replaying(self) -> bool:
        return self._replay_after < self._replay_upto

    def _deliver(self, batch: list[dict]) -> None:
        if self._closed or self._overflowed:
            return
        self._live.append(batch)
        self._live_count += len(batch)
        if self._live_count > self._limit:
            # Free the memory now; the consumer learns on its next read and re-subscribes.
            self._overflowed = True
            self._live.clear()
            self._live_count = 0
        self._wakeup.set()

    def __aiter__(self):
        return self

    async def __anext__(self) -> list[dict]:
        if self._closed:
            raise StopAsyncIteration
        if self.replaying:
            page = self._log.store.events(
                self._log.session_id, self._replay_after, limit=2000, upto_seq=self._replay_upto
            )
            if page:
                self._replay_after = page[-1]["seq"]
                self.last_seq = page[-1]["seq"]
                return page
            self._replay_after = self._replay_upto
        while not self._live:
            if self._overflowed:
                self.close()
                raise SubscriberTooSlow(self.last_seq)
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        batch = self._live.popleft()
        self._live_count -= len(batch)
        self.last_seq = batch[-1]["seq"]
        return batch

    def close(self) -> None:
        self._closed = True
        self._log._subscribers.discard(self)
        self._wakeup.set()
