"""The per-session event log: append-only, stored before published, replayable from any seq.

Appends are buffered for the rest of the current event-loop iteration and then written in one
transaction and published as one batch. Bursts (an agent flooding chunks) therefore cost one
commit, and consecutive message chunks of a turn are coalesced into a single event, which is
what keeps long transcripts cheap to store and fast to open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import deque

from .errors import StoreFailed
from .store import Store

log = logging.getLogger("glue_jupyter.engine")
RETRY_AFTER = 1.0  # seconds between attempts while the database refuses writes

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
        self._fields: dict = {}  # session fields changed since the last store, stored with the next batch
        self._retry: asyncio.TimerHandle | None = None
        self._holding = 0  # inside `holding()`: flush waits for the commit at its end

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

    def set_fields(self, fields: dict) -> None:
        """Session fields to store with the next batch (in the same transaction)."""
        self._fields.update(fields)
        self._schedule_flush()

    def mark(self) -> tuple:
        """Where the journal stands, for `rollback`: appends and fields after it can be undone
        (lifecycle events only: a coalesced chunk appended into an earlier event cannot)."""
        return len(self._pending), self._next_seq, dict(self._fields)

    def rollback(self, mark: tuple) -> None:
        """Forget what was appended and set since `mark` (it was never stored)."""
        pending, next_seq, fields = mark
        del self._pending[pending:]
        self._next_seq, self._fields = next_seq, fields

    def flush(self) -> bool:
        """Store what is pending, then publish it. Never raises; safe to call at any time.

        If the store refuses, everything stays pending, in order, and is tried again shortly:
        nothing is published that was not stored, no seq is skipped, nothing is lost.
        """
        if self._holding:
            self._flush_scheduled = False
            return False
        try:
            self.commit()
            return True
        except StoreFailed as exc:
            if self._retry is None:
                log.warning("%s (%d events wait; trying again every %g s)", exc, len(self._pending), RETRY_AFTER)
                with contextlib.suppress(RuntimeError):  # no loop: the next flush tries again
                    self._retry = asyncio.get_running_loop().call_later(RETRY_AFTER, self._retry_flush)
            return False

    @contextlib.contextmanager
    def holding(self):
        """Nothing is stored inside: the caller commits all of it at once afterwards."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1

    def _retry_flush(self) -> None:
        self._retry = None
        self.flush()

    def commit(self) -> None:
        """Store what is pending and publish it, or raise StoreFailed and keep it pending."""
        self._flush_scheduled = False
        if not self._pending and not self._fields:
            return
        batch, fields = self._pending, self._fields
        indexed, entries = self._index_entries(batch)
        try:
            self.store.append_events(self.session_id, batch, fields=fields, index=entries)
        except sqlite3.Error as exc:
            raise StoreFailed(self.session_id, str(exc)) from exc
        self._pending, self._fields = [], {}
        for turn in indexed:
            self._turn_text.pop(turn, None)
        if not batch:
            return
        self.stored_seq = batch[-1]["seq"]
        for sub in list(self._subscribers):
            sub._deliver(batch)
        if self._on_stored:
            self._on_stored(batch[-1])

    def _index_entries(self, batch: list[dict]) -> tuple[list[int], list[tuple[str, str]]]:
        """What the batch adds to the search index: a user's message, a finished turn's reply."""
        turns, entries = [], []
        for event in batch:
            if event["kind"] == "user_message":
                entries.append((f"user:{event['seq']}", event["data"].get("text", "")))
            elif event["kind"] == "turn_end":
                turn = event["data"].get("turn")
                parts = self._turn_text.get(turn)
                if parts:
                    turns.append(turn)
                    entries.append((f"agent:{turn}", "".join(parts)))
        return turns, entries

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
        """End every subscription and store nothing more (the session is being forgotten)."""
        for sub in list(self._subscribers):
            sub.close()
        self._pending, self._fields = [], {}
        self._holding += 1  # for good: a flush still scheduled finds nothing to do
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None


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

    def ready(self) -> list[list[dict]]:
        """The live batches already queued, taken without waiting (in order; [] if none): a
        consumer that fell behind catches up in one step instead of one per batch."""
        if self._closed or self._overflowed or self.replaying or not self._live:
            return []
        batches = list(self._live)
        self._live.clear()
        self._live_count = 0
        self.last_seq = batches[-1][-1]["seq"]
        return batches

    def close(self) -> None:
        self._closed = True
        self._log._subscribers.discard(self)
        self._wakeup.set()
