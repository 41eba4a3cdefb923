"""The engine in this very process, for a plain IPython terminal with no Jupyter server.

The SessionManager is asyncio-native; IPython's own loop (if any) belongs to IPython, so the
engine gets a private loop in a daemon thread and every call is marshalled onto it with
``run_coroutine_threadsafe``. Same methods and return shapes as ``GlueClient``.
"""

from __future__ import annotations

import asyncio
import atexit
import queue
import threading

from .errors import ServerError
from .stream import EventWaits
from .workspace import EmbeddedWorkspaceCalls

CALL_TIMEOUT = 300.0


class EmbeddedClient(EmbeddedWorkspaceCalls, EventWaits):
    embedded = True
    url = None
    server = None

    def __init__(self, config=None):
        from ..engine import EngineConfig, SessionManager  # the heavy import, only here

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="glue-embedded-engine", daemon=True
        )
        self._thread.start()
        self.manager = SessionManager(config or EngineConfig())
        self._call(self.manager.open())
        atexit.register(self.close)

    def __repr__(self):
        return "EmbeddedClient()"

    def _call(self, coro, timeout=CALL_TIMEOUT):
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return fut.result(timeout)
        except Exception as e:
            raise _client_error(e) from None

    def _sync(self, fn, *args, **kwargs):
        async def run():
            return fn(*args, **kwargs)

        return self._call(run())

    def close(self):
        if self._loop.is_closed() or not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.manager.close(), self._loop).result(60)
        except Exception:  # shutting down: the sessions end with the process anyway
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # -- the API (same as GlueClient) -------------------------------------------------------
    def info(self):
        return self._sync(self.manager.info)

    def agents(self, refresh: bool = False):
        return self._call(self.manager.check_agents(refresh=refresh))

    def list_sessions(self, state=None, agent=None, q=None, sort=None, notebook=None):
        return self._sync(self.manager.list_sessions, state=state, agent=agent, q=q, sort=sort or "activity",
                          notebook=notebook)

    def start(self, agent, cwd, title=None, prompt=None, context=None, notebook=None, mode=None, model=None,
              config=None, agent_session_id=None, kernel_id=None, isolate=False):
        if kernel_id is not None:
            raise ServerError("The live-kernel tool needs a Jupyter server: with the embedded engine "
                              "there is no kernel for the agent to run code in.")
        return self._call(self.manager.start_session(
            agent=agent, cwd=cwd, title=title, prompt=prompt, context=context, notebook=notebook, mode=mode,
            model=model, config=config, agent_session_id=agent_session_id, isolate=isolate))

    def configure(self, session_id, option, value):
        return self._call(self.manager.configure(session_id, option, value))

    def agent_sessions(self, agent, cwd=None):
        return self._call(self.manager.agent_sessions(agent, cwd))

    def get(self, session_id):
        return self._sync(self.manager.get, session_id)

    def prompt(self, session_id, text, context=None, when=None):
        return self._call(self.manager.prompt(session_id, text, context, when))

    def interrupt(self, session_id):
        return self._call(self.manager.interrupt(session_id))

    def pause(self, session_id):
        return self._call(self.manager.pause(session_id))

    def stop(self, session_id):
        return self._call(self.manager.stop(session_id))

    def resume(self, session_id, prompt=None, context=None):
        return self._call(self.manager.resume(session_id, prompt=prompt, context=context))

    def answer_permission(self, session_id, request_id, option_id):
        return self._call(self.manager.answer_permission(session_id, request_id, option_id))

    def rename(self, session_id, title):
        return self._call(self.manager.rename(session_id, title))

    def mark_seen(self, session_id, seq=None):
        return self._call(self.manager.mark_seen(session_id, seq))

    def forget(self, session_id):
        self._call(self.manager.forget(session_id))

    def events(self, session_id, after_seq=0, limit=None):
        return self._sync(self.manager.events, session_id, after_seq=after_seq, limit=limit)

    def follow(self, session_id, after_seq=0):
        return _EmbeddedFollower(self, session_id, after_seq)



class _EmbeddedFollower:
    """Same messages as the WebSocket follower, fed from ``manager.subscribe``."""

    _END = object()

    def __init__(self, client: EmbeddedClient, session_id, after_seq=0):
        self.client = client
        self.session_id = session_id
        self.last_seq = after_seq
        self._queue: queue.Queue = queue.Queue()
        self._task = None

    async def _pump(self, stored_seq):
        sub = self.client.manager.subscribe(self.session_id, after_seq=self.last_seq)
        try:
            live_sent = stored_seq <= self.last_seq
            async for batch in sub:
                self._queue.put({"type": "events", "events": batch})
                # The engine's iterator has no "live" marker: the replay ends at what was stored.
                if not live_sent and batch and batch[-1]["seq"] >= stored_seq:
                    self._queue.put({"type": "live", "last_seq": batch[-1]["seq"]})
                    live_sent = True
        except Exception as e:  # handed to the reading thread
            self._queue.put(e)
        finally:
            sub.close()
            self._queue.put(self._END)

    def __iter__(self):
        # An empty replay produces no batch: announce "live" from the stored state up front.
        stored = self.client.get(self.session_id)["last_seq"]
        if stored <= self.last_seq:
            yield {"type": "live", "last_seq": stored}
        self._task = asyncio.run_coroutine_threadsafe(self._pump(stored), self.client._loop)
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, Exception):
                raise _client_error(item)
            fresh = [e for e in item.get("events", []) if e["seq"] > self.last_seq]
            if item["type"] == "events":
                if not fresh:
                    continue
                self.last_seq = fresh[-1]["seq"]
                item = {"type": "events", "events": fresh}
            yield item

    def close(self):
        if self._task is not None:
            self._task.cancel()
        self._queue.put(self._END)


def _client_error(e: BaseException) -> Exception:
    """Engine errors carry user-facing messages: surface them the way the server would."""
    try:
        from ..engine import GlueError
    except ImportError:  # pragma: no cover - engine always present when embedded
        GlueError = ()
    if isinstance(e, GlueError):
        return ServerError(str(e))
    if isinstance(e, (TimeoutError, asyncio.TimeoutError)):
        return ServerError("the embedded engine did not answer in time")
    return e
