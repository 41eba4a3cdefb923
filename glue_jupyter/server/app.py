"""The Jupyter server extension: configuration as traits, one SessionManager on the server's loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from pathlib import Path

import yaml
from jupyter_server._tz import utcnow
from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Dict, Enum, Float, Int, List, TraitError, Type, Unicode, default

from .. import __version__
from . import handlers, metrics, stream, workspace_handlers
from .shapes import RequestShapes

# The key under which we report activity in `settings["last_activity_times"]`, the dict
# ServerApp.last_activity() reads: for its own idle shutdown, and what JupyterHub's single-user
# extension reports to the hub (and so to jupyterhub-idle-culler).
ACTIVITY_KEY = "glue_jupyter"
# Set by the hub's spawner (e.g. `c.Spawner.environment`): a per-user limit without config files.
MAX_ACTIVE_ENV = "GLUE_JUPYTER_MAX_ACTIVE_SESSIONS"


class GlueApp(ExtensionApp):
    """Sessions of AI coding agents, owned by the Jupyter server."""

    name = "glue_jupyter"
    description = "Run and steer AI coding agents (ACP) as Jupyter sessions"
    version = __version__
    load_other_extensions = True

    session_manager_class = Type(
        default_value="glue_jupyter.engine.SessionManager",
        klass="glue_jupyter.engine.SessionManager",
        help="The SessionManager class to use (swap it to customise the engine).",
    ).tag(config=True)

    db_path = Unicode(
        "",
        help="The SQLite database of sessions and transcripts. "
        "Default: <jupyter data dir>/glue_jupyter/sessions.db.",
    ).tag(config=True)

    # Shadows JupyterApp.data_dir on purpose: this app's data lives in its own folder.
    data_dir = Unicode(
        help="Where agents keep their own state (e.g. the demo agent's history). "
        "Default: <jupyter data dir>/glue_jupyter.",
    ).tag(config=True)

    root_dir = Unicode(
        "",
        help="Sessions work in this directory or below it, and relative session cwds resolve "
        "against it. Default: the server's root_dir.",
    ).tag(config=True)

    allowed_roots = List(
        Unicode(),
        help="More directories sessions may work in (each with everything below it), besides "
        "root_dir; e.g. ['~', '/data']. Symlinks are followed before the check.",
    ).tag(config=True)

    max_title_length = Int(200, help="Longest session title accepted, in characters.").tag(config=True)

    max_prompt_length = Int(
        1_000_000, help="Longest prompt (or follow-up message) accepted, in characters."
    ).tag(config=True)

    max_agent_file_size = Int(
        16 * 1024 * 1024,
        help="Largest file, in bytes, an agent may read or write through the protocol "
        "(fs/read_text_file, fs/write_text_file). Only regular files in the session folder are served.",
    ).tag(config=True)

    max_active_sessions = Int(
        help="At most this many sessions are active (starting, idle, running, interrupting). "
        f"Default: ${MAX_ACTIVE_ENV} if set (JupyterHub's spawner environment), else 4."
    ).tag(config=True)

    stop_grace_period = Float(
        5.0, help="Seconds between SIGTERM and SIGKILL when an agent's process group is stopped."
    ).tag(config=True)

    interrupt_timeout = Float(
        10.0, help="Seconds an agent has to honour a cancel before the turn is escalated."
    ).tag(config=True)

    start_timeout = Float(60.0, help="Seconds an agent has to start and answer ACP initialize.").tag(
        config=True
    )

    close_timeout = Float(
        2.0, help="Seconds an agent has to answer ACP session/close when its session is stopped, "
        "before the signals (only agents that offer session/close are asked).",
    ).tag(config=True)

    permission_policy = Enum(
        ["ask", "allow", "deny"],
        default_value="ask",
        help="Default answer to an agent's permission request: ask the user, allow, or deny.",
    ).tag(config=True)

    agents = Dict(
        help='Extra agents or overrides of built-in ones: {name: {"argv": [...], "env": {...}, '
        '"title": str, "install_hint": str, "trust_load_session": bool, "bypass_modes": [...]}}.',
    ).tag(config=True)

    busy_activity_interval = Float(
        help="While a turn runs (or waits for a permission answer) the server's last activity is "
        "refreshed this often, in seconds, also with no browser attached: JupyterHub's single-user "
        "server reports that activity to the hub every $JUPYTERHUB_ACTIVITY_INTERVAL, so the idle "
        "culler never culls mid-turn. Default: half of $JUPYTERHUB_ACTIVITY_INTERVAL, at most 60.",
    ).tag(config=True)

    checkpoints = Bool(
        True, help="Snapshot each session's folder before and after every turn, so its changes can be "
        "reviewed and rewound (git repositories: private refs refs/glue/<session>/…; other folders: a "
        "shadow repository under data_dir). Needs the git command.",
    ).tag(config=True)

    checkpoint_max_file_mb = Float(
        50.0, help="Files larger than this (MB) are left out of checkpoints, and named where changes are shown.",
    ).tag(config=True)

    checkpoint_max_new_files = Int(
        5_000, help="The most files one checkpoint copies that no earlier one holds: outside git, a folder "
        "needing more gets no checkpoints (make it a git repository); in git, untracked folders holding "
        "most of them are left out, and named.",
    ).tag(config=True)

    worktrees_dir = Unicode(
        "", help="Where sessions started with a worktree of their own get it. Default: <data_dir>/worktrees. "
        "Set it to a folder under the server's root_dir to browse worktrees in JupyterLab.",
    ).tag(config=True)

    stream_write_timeout = Float(
        10.0,
        help="Seconds a WebSocket write may wait on a client that stopped reading before the "
        "socket is closed with code 4008 (the client reconnects from its last seq).",
    ).tag(config=True)

    kernel_tool_timeout = Float(
        600.0,
        help="Seconds one execution of the live-kernel tool (sessions started with --kernel) may "
        "run before the kernel is interrupted.",
    ).tag(config=True)

    @default("data_dir")
    def _default_data_dir(self) -> str:
        from ..engine.config import default_data_dir

        return str(default_data_dir())

    @default("max_active_sessions")
    def _default_max_active_sessions(self) -> int:
        value = os.environ.get(MAX_ACTIVE_ENV, "").strip()
        if not value:
            return 4
        if not (value.isascii() and value.isdigit() and int(value) >= 1):
            raise TraitError(f"{MAX_ACTIVE_ENV} must be a whole number of at least 1, not {value!r}.")
        return int(value)

    @default("busy_activity_interval")
    def _default_busy_activity_interval(self) -> float:
        try:
            hub_interval = float(os.environ.get("JUPYTERHUB_ACTIVITY_INTERVAL") or 300)
        except ValueError:
            hub_interval = 300.0
        return min(60.0, max(0.5, hub_interval / 2))

    @default("root_dir")
    def _default_root_dir(self) -> str:
        return self.serverapp.root_dir if self.serverapp else ""

    def engine_config(self):
        from ..engine import EngineConfig

        config = EngineConfig(
            db_path=Path(self.db_path).expanduser() if self.db_path else None,
            data_dir=Path(self.data_dir).expanduser(),
            root_dir=Path(self.root_dir or ".").expanduser(),
            allowed_roots=[Path(p).expanduser() for p in self.allowed_roots],
            max_active_sessions=self.max_active_sessions,
            stop_grace_period=self.stop_grace_period,
            interrupt_timeout=self.interrupt_timeout,
            start_timeout=self.start_timeout,
            close_timeout=self.close_timeout,
            permission_policy=self.permission_policy,
            agents=dict(self.agents),
            max_title_length=self.max_title_length,
            max_prompt_length=self.max_prompt_length,
            max_agent_file_size=self.max_agent_file_size,
            checkpoints=self.checkpoints,
            checkpoint_max_file_mb=self.checkpoint_max_file_mb,
            checkpoint_max_new_files=self.checkpoint_max_new_files,
            worktrees_dir=Path(self.worktrees_dir).expanduser() if self.worktrees_dir else None,
        )
        config.knob_prefix = "c.GlueApp."  # errors name the knob the way this user sets it
        return config

    # -- lifecycle -------------------------------------------------------------------------

    def initialize_settings(self) -> None:
        self.session_manager = self.session_manager_class(self.engine_config(),
                                                          observer=metrics.MetricsObserver())
        self._opening: asyncio.Future | None = None
        self._activity_tasks: list[asyncio.Task] = []

    def initialize_handlers(self) -> None:
        limits = {"max_title_length": self.max_title_length, "max_prompt_length": self.max_prompt_length}
        shapes = RequestShapes(yaml.safe_load(handlers.OPENAPI.read_text()), limits)
        from ..kernel_tool import route as kernel_tool

        self.kernel_tools = kernel_tool.KernelTools(self.session_manager, self.serverapp.kernel_manager,
                                                    lambda: self.serverapp.connection_url, self.kernel_tool_timeout)
        rest = {"manager": self.session_manager, "ready": self.ready, "shapes": shapes,
                "kernel_tools": self.kernel_tools}
        sockets = {"manager": self.session_manager, "ready": self.ready,
                   "write_timeout": self.stream_write_timeout, "shared": stream.SharedJSON()}
        self.handlers.extend((route, handler, rest) for route, handler in handlers.routes + workspace_handlers.routes)
        self.handlers.extend((route, handler, sockets) for route, handler in stream.routes)
        tool = {"tools": self.kernel_tools, "ready": self.ready}
        self.handlers.extend((route, handler, tool) for route, handler in kernel_tool.routes)

    async def ready(self) -> None:
        """Open the manager once, on the running loop. Handlers await this before use, because
        the server's start hook does not run everywhere (e.g. under pytest-jupyter)."""
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
        await asyncio.shield(self._opening)

    async def _open(self) -> None:
        await self.session_manager.open()
        metrics.CENSUS.managers.add(self.session_manager)
        self._activity_tasks = [asyncio.ensure_future(self._track_activity()),
                                asyncio.ensure_future(self._keep_busy_fresh())]
        self.log.info("glue_jupyter: %s sessions db at %s", __version__,
                      self.session_manager.config.db_path)

    async def _start_jupyter_server_extension(self, serverapp) -> None:
        self._stop_cleanly_on_sigint(serverapp)
        await self.ready()

    def _stop_cleanly_on_sigint(self, serverapp) -> None:
        """Make SIGINT the clean stop SIGTERM already is, when nobody else handles it.

        JupyterHub's local spawners stop a server with SIGINT first. Without a terminal,
        jupyter_server leaves SIGINT to Python: a KeyboardInterrupt ends the event loop and the
        process without the server's cleanup, so no extension's stop hook runs, agent process
        groups are left behind and live sessions come back failed. (With a terminal, jupyter_server
        asks for confirmation, and we leave that alone.)
        """
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return
        stop = getattr(serverapp, "_signal_stop", None)
        if stop is None:  # a jupyter_server without it: the public API does the same
            def stop(signum, frame):
                serverapp.log.critical("received signal %s, stopping", signum)
                serverapp.stop(from_signal=True)
        signal.signal(signal.SIGINT, stop)

    def _activity_times(self) -> dict:
        return self.serverapp.web_app.settings.setdefault("last_activity_times", {})

    async def _track_activity(self) -> None:
        """Every session change is activity: keeps the idle culler's clock fresh."""
        times = self._activity_times()
        times[ACTIVITY_KEY] = utcnow()
        async for _change in self.session_manager.watch():
            times[ACTIVITY_KEY] = utcnow()

    async def _keep_busy_fresh(self) -> None:
        """A turn can run (or wait for a permission answer) for hours without a state change:
        while one does, the activity stays fresh, whether or not anyone is watching."""
        times = self._activity_times()
        while True:
            await asyncio.sleep(self.busy_activity_interval)
            if self.session_manager.current_activity():
                times[ACTIVITY_KEY] = utcnow()

    def current_activity(self):
        """Running sessions, so `shutdown_no_activity` never shuts the server down mid-turn."""
        if self._opening is None or not self._opening.done():
            return None
        return self.session_manager.current_activity() or None

    async def stop_extension(self) -> None:
        """End every agent process group; live sessions become stopped (resumable)."""
        if self._opening is None:
            return
        with contextlib.suppress(Exception):
            await self._opening
        for task in self._activity_tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.log.info("glue_jupyter: stopping every live session")
        await self.session_manager.close()
        metrics.CENSUS.managers.discard(self.session_manager)


main = launch_new_instance = GlueApp.launch_instance
