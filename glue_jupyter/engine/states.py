"""Session states and the one table of which control is legal in which state."""

from __future__ import annotations

from enum import Enum


class State(str, Enum):
    STARTING = "starting"
    IDLE = "idle"
    RUNNING = "running"
    INTERRUPTING = "interrupting"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


S = State

# States that hold a concurrency slot.
ACTIVE = frozenset({S.STARTING, S.IDLE, S.RUNNING, S.INTERRUPTING})
# States with an agent process (possibly frozen).
LIVE = ACTIVE | {S.PAUSED, S.STOPPING}
ENDED = frozenset({S.STOPPED, S.FAILED})

# control -> the states it is legal in. Everything else is refused with IllegalControl.
LEGAL = {
    # A prompt while a turn runs (or the agent starts, or is paused) is queued: engine/queue.py.
    "prompt": frozenset({S.STARTING, S.IDLE, S.RUNNING, S.INTERRUPTING, S.PAUSED}),
    "interrupt": frozenset({S.RUNNING}),
    "pause": frozenset({S.IDLE, S.RUNNING}),
    "resume": frozenset({S.PAUSED, S.STOPPED, S.FAILED}),
    "stop": frozenset({S.STARTING, S.IDLE, S.RUNNING, S.INTERRUPTING, S.PAUSED}),
    "answer a permission request of": frozenset({S.RUNNING}),
    "forget": ENDED,
    # Acting on the session's files (engine/workspaces.py): never while its agent may write.
    "rewind the files of": frozenset({S.IDLE, S.PAUSED}) | ENDED,
    "merge the worktree of": frozenset({S.IDLE, S.PAUSED}) | ENDED,
    "discard the worktree of": frozenset({S.IDLE, S.PAUSED}) | ENDED,
    # Live: the agent is told at once; ended: remembered and applied when it resumes.
    "change the mode, model or options of": frozenset({S.IDLE, S.RUNNING}) | ENDED,
}

# What to tell the user when a control is refused, by (control, state).
ADVICE = {
    ("prompt", S.STOPPING): "Resume it (with your message) once it has stopped.",
    ("prompt", S.STOPPED): "Resume it (with your message) first.",
    ("prompt", S.FAILED): "Resume it (with your message) first.",
    ("interrupt", S.IDLE): "There is no turn in progress.",
    ("interrupt", S.PAUSED): "Resume it first, or stop it.",
    ("resume", S.IDLE): "It is already live.",
    ("resume", S.RUNNING): "It is already live.",
    ("forget", S.IDLE): "Stop it first.",
    ("forget", S.RUNNING): "Stop it first.",
    ("forget", S.PAUSED): "Stop it first.",
    ("answer a permission request of", S.PAUSED): "Resume it first.",
    **{(control, state): "Wait for the turn to end, or interrupt it first."
       for control in ("rewind the files of", "merge the worktree of", "discard the worktree of")
       for state in (S.RUNNING, S.INTERRUPTING)},
    **{(control, state): "Wait until it has started (or stopped)."
       for control in ("rewind the files of", "merge the worktree of", "discard the worktree of")
       for state in (S.STARTING, S.STOPPING)},
    ("change the mode, model or options of", S.PAUSED): "Resume it first.",
    ("change the mode, model or options of", S.STARTING): "Wait until it has started.",
    ("change the mode, model or options of", S.INTERRUPTING): "Wait for the interrupt to finish.",
    ("change the mode, model or options of", S.STOPPING): "Wait until it has stopped.",
}
