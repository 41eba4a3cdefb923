"""``%glue`` and ``%%glue``: agent sessions from notebook cells.

Cheap to import (it runs in every kernel that loads the extension): the client is stdlib
only, the widget is imported when first shown, the engine only for the embedded fallback.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display

from .client import GlueClientError, NoServerFound, agents_table, connect
from .client import agent_state, listing
from .client.render import HTML_COLOURS, SETTLED, TextStream, snapshot_text, status_line
from .client.resolve import resolve_id
from .magics_workspace import WorkspaceMagics

DEFAULT_AGENT_ENV = "GLUE_JUPYTER_AGENT"
USAGE = """\
%glue start --agent NAME [--cwd DIR] [--title T] [--wait] [OPTIONS] [CONTEXT] [PROMPT]
%glue list | agents | search TEXT
%glue mode|model [ID] [VALUE] · %glue config [ID] [OPTION [VALUE]]   (no VALUE: the choices)
%glue adopt --agent NAME [--cwd DIR] [OPTIONS] [AGENT_SESSION [MESSAGE]]   (no AGENT_SESSION: the list)
%glue show|interrupt|pause|stop|allow|deny [ID]
%glue resume [ID] [--wait] [FOLLOW-UP]
%glue rename [ID] TITLE
%glue fix [ID] [--with A,B] [MORE]      (the last error and its cell, to the agent)
%glue insert [ID] [N]                    (the reply's last code block, or the Nth, into a new cell)
%glue diff [ID] [--turn N] [--stat] · checkpoints [ID] · rewind [ID] [--to-turn N|--to NAME|--undo] [--yes]
%glue worktree [ID] [--diff] · merge [ID] · discard [ID] [--yes] · fork [ID] [--turn N] [--worktree] [TITLE]
%glue queue [ID] [--remove N | --send-now N | --edit N TEXT]
%%glue [ID] [--agent NAME] [--wait] [--now] [CONTEXT]   (cell body = prompt; @name attaches a variable)
OPTIONS: --mode M · --model M · --set OPTION=VALUE[,OPTION=VALUE]   (what the agent offers)
CONTEXT: --with A,B (variables) · --cells [3,5-7] (the notebook's cells, or In[3], In[5..7]) · --no-notebook
Every subcommand explained: %glue?"""
SUBCOMMANDS = ("start", "list", "search", "agents", "show", "interrupt", "pause", "stop", "allow", "deny",
               "resume", "rename", "fix", "insert", "mode", "model", "config", "adopt",
               "diff", "checkpoints", "rewind", "worktree", "merge", "discard", "fork", "queue")


class GlueError(Exception):
    """A refused request, shown as one line instead of a traceback."""

    def _render_traceback_(self):  # IPython's hook for custom error display
        return [f"glue: {self}"]


def _usage(msg: str) -> UsageError:
    return UsageError(f"{msg}\n{USAGE}")


# -- "the notebook's current session", remembered across kernel restarts ---------------------
class NotebookMemory:
    """notebook path -> session id, in a small JSON file under the Jupyter data dir."""

    def __init__(self, path: str | None = None):
        if path is None:
            from jupyter_core.paths import jupyter_data_dir

            path = os.path.join(jupyter_data_dir(), "glue_jupyter", "notebook_sessions.json")
        self.path = path

    def _load(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def get(self, key: str) -> str | None:
        return self._load().get(key)

    def set(self, key: str, session_id: str) -> None:
        data = self._load()
        data[key] = session_id
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, self.path)  # atomic: two kernels may write at once


# -- argument parsing -----------------------------------------------------------------------
# Prompts are prose ("don't touch utils.py"), so only the leading options are tokenised and
# the rest of the line is taken verbatim.
_FLAGS = {"--wait", "--no-notebook", "--kernel", "--now", "--worktree", "--stat", "--undo", "--yes", "--diff",
          "--remove", "--send-now"}
# Options whose value is optional: taken only when the next word looks like one.
_OPTIONAL_VALUES = {"--cells": re.compile(r"\d+(-\d+)?(,\d+(-\d+)?)*$")}
CONTEXT_OPTIONS = {"--with": "with", "--cells": "cells", "--no-notebook": "no_notebook"}
AGENT_OPTIONS = {"--mode": "mode", "--model": "model", "--set": "set"}


def parse_options(line: str, allowed: dict[str, str]) -> tuple[dict, str]:
    """``allowed`` maps option spellings to names; returns (options, rest of the line)."""
    opts, rest = {}, line.strip()
    while rest.startswith("-"):
        m = re.match(r"(--?[\w-]+)(=)?", rest)
        name = m.group(1)
        if name not in allowed:
            raise _usage(f"unknown option {name}")
        rest = rest[m.end():]
        if name in _OPTIONAL_VALUES and not m.group(2):
            word = rest.split(None, 1)[0] if rest.strip() else ""
            if not _OPTIONAL_VALUES[name].match(word):
                opts[allowed[name]] = True
                rest = rest.lstrip()
                continue
        if name in _FLAGS:
            if m.group(2):
                raise _usage(f"{name} takes no value")
            opts[allowed[name]] = True
            rest = rest.lstrip()
            continue
        rest = rest.lstrip() if not m.group(2) else rest
        v = re.match(r""""([^"]*)"|'([^']*)'|(\S+)""", rest)
        if not v:
            raise _usage(f"{name} needs a value")
        opts[allowed[name]] = next(g for g in v.groups() if g is not None)
        rest = rest[v.end():].lstrip()
    return opts, rest


@magics_class
class GlueMagics(WorkspaceMagics, Magics):
    def __init__(self, shell=None, client=None, memory: NotebookMemory | None = None):
        super().__init__(shell)
        self._client = client
        self._memory = memory
        self._current: str | None = None
        from .kernel_context.errors import ErrorRecorder

        self.errors = ErrorRecorder()  # registered on post_run_cell by load_ipython_extension
        self.kernel_sessions: set = set()  # sessions started here with the live-kernel tool
        self.start_dir = os.getcwd()    # the notebook's folder, before any %cd
        # Widgets need a front end; a terminal gets text (and follows running turns).
        self.rich = shell is not None and type(shell).__name__ == "ZMQInteractiveShell"

    # -- plumbing --------------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            try:
                self._client = connect()
            except NoServerFound:
                from .client.embedded import EmbeddedClient

                self._client = EmbeddedClient()
                print(
                    "glue: no Jupyter server found; running sessions on an embedded engine in this "
                    "process (they end when it exits). Start `jupyter lab` to keep them.",
                    file=sys.stderr,
                )
        return self._client

    def _notebook_key(self) -> str | None:
        if self._client is not None and getattr(self._client, "embedded", False):
            return None  # embedded sessions die with the process: nothing to remember
        name = os.environ.get("JPY_SESSION_NAME")
        return f"{self.client.url}|{name}" if name else None

    @property
    def memory(self) -> NotebookMemory:
        if self._memory is None:
            self._memory = NotebookMemory()
        return self._memory

    @property
    def current(self) -> str | None:
        if self._current is None and (key := self._notebook_key()):
            self._current = self.memory.get(key)
        return self._current

    @current.setter
    def current(self, session_id: str) -> None:
        self._current = session_id
        if key := self._notebook_key():
            self.memory.set(key, session_id)

    def _target(self, ref: str | None) -> str:
        if ref:
            sid = self.client.get(resolve_id(self.client, ref))["id"]  # unknown ids fail here
            self.current = sid
            return sid
        if self.current is None:
            raise GlueError("no current session in this notebook; `%glue start --agent demo` or pass an ID")
        return self.current

    def _looks_like_id(self, token: str) -> bool:
        if not re.fullmatch(r"[0-9a-f]{4,32}", token):
            return False
        try:
            resolve_id(self.client, token)
        except GlueClientError:
            return False
        return True

    # -- the magic ---------------------------------------------------------------------------
    @line_cell_magic
    def glue(self, line: str, cell: str | None = None):
        """Drive AI agent sessions that live in the Jupyter server.

        Line magic::

          %glue start --agent NAME [--cwd DIR] [--title TITLE] [--wait] [--kernel] [PROMPT]
              Start a session (cwd defaults to the notebook's folder), optionally with a
              first prompt, and show its live widget. It becomes this notebook's current
              session. --wait blocks the cell until the first turn is over. --kernel lets
              the agent run code in this kernel (off by default): each run shows in the
              transcript, asks your permission under the "ask" policy, and is interrupted
              with the turn. %%glue --agent NAME --kernel does the same when it starts one.
          %glue list                  Sessions: state, title, agent, folder, last activity.
          %glue search TEXT           Sessions whose title or transcript mention TEXT.
          %glue agents [--refresh]    Agents the server can launch: installed, signed in, what they can do.
          %glue show [ID]             The live widget of a session (without ID in a notebook:
                                      its current session, or the list of its sessions).
          %glue interrupt [ID]        Cancel the turn in progress (the session stays alive).
          %glue pause [ID]            Freeze the session and free its slot.
          %glue stop [ID]             End the agent's process; the transcript stays.
          %glue allow [ID]            Allow the agent's oldest waiting permission request
          %glue deny [ID]             ... or deny it (the widget has buttons for both).
          %glue resume [ID] [--wait] [FOLLOW-UP]
              Continue a paused, stopped or failed session, optionally with a message.
          %glue rename [ID] TITLE     Give the session another title (every view shows it).
          %glue mode [ID] [VALUE]     The agent's modes (the current one marked), or switch
          %glue model [ID] [VALUE]    ... its models; a change is recorded in the transcript
          %glue config [ID] [OPTION [VALUE]]   ... any option it offers (true/false switches).
              A mode that lets the agent act without asking is refused unless the server's
              permission policy is "allow". A stopped session takes the change on resume.
          %glue adopt --agent NAME [--cwd DIR] [AGENT_SESSION [MESSAGE]]
              The agent's own sessions in DIR (e.g. Claude Code sessions begun in a
              terminal), or continue one of them as a glue session.
          %glue fix [ID] [--with A,B] [MORE]
              Send the last error's traceback and the source of the cell that raised it
              to the session, asking for a fix (MORE: words of your own).
          %glue insert [ID] [N]       Put the last code block of the agent's last reply (or
                                      its Nth) into a new cell below (JupyterLab's session
                                      views and the widget also have "Insert below").

        What the agent did to your files (glue checkpoints the session's folder before and
        after every turn; .gitignore'd files are not included):

          %glue diff [ID] [--turn N] [--stat]
              Every file the turn (default: the latest) changed, with its diff.
          %glue checkpoints [ID]      The checkpoints you can rewind to.
          %glue rewind [ID] [--to-turn N | --to NAME | --undo] [--yes]
              Put the files back as they were before turn N (default: the latest), or at a
              checkpoint; --undo undoes the last rewind. Without --yes it shows what would
              change. Refused while a turn runs.
          %glue worktree [ID] [--diff]
              A session started with --worktree: its branch, commits ahead of its base, and
              its changes against the base.
          %glue merge [ID]            Merge that branch into its base (conflicts: nothing merged).
          %glue discard [ID] [--yes]  Throw the worktree's work away (a checkpoint keeps it).
          %glue fork [ID] [--turn N] [--worktree] [TITLE]
              A new session that starts from this one at turn N (default: the latest).
          %glue queue [ID] [--remove N | --send-now N | --edit N TEXT]
              Messages sent while a turn runs wait in a queue and go when it ends: list,
              remove, edit, or send one now (interrupting, or steering where the agent can).

        `%glue list` puts the sessions that need you first (a permission request waiting, a
        failure, a finished turn you have not seen yet), then those working, then the rest,
        with the same relative times as the JupyterLab side panel.

        Cell magic::

          %%glue [ID] [--agent NAME] [--wait] [--now] [--with A,B] [--cells [N,M-K]] [--no-notebook]
              The cell body is a prompt to the current session (or ID). A paused or stopped
              session is resumed with it; with no current session, one is started (agent
              from --agent, else $GLUE_JUPYTER_AGENT, else demo). While a turn runs the
              message is queued; --now interrupts the turn (or steers it) and sends it at once.

        Options of start and adopt (what the agent offers; `%glue mode` lists them):

          --mode plan  --model sonnet  --set thoughts=off,effort=high

        Context (shown as chips in the transcript, exactly as sent):

          --with df,model   describe these variables (shape, dtypes, head and statistics
                            for DataFrames; shape, dtype and a sample for arrays; a
                            truncated repr otherwise); `@df` in a %%glue body does the same.
                            Nothing of the kernel is sent unless named.
          --cells           the notebook's code cells above this one, as saved;
          --cells 3,5-7     or the cells this kernel ran as In[3], In[5] to In[7].
          --no-notebook     leave out the link to this notebook (sent by default).

        ID is a session id or a unique prefix of one; without it, the notebook's current
        session (the last one started or named here, remembered across kernel restarts).
        The server is found on its own (the one that launched this kernel), or named by
        GLUE_JUPYTER_URL / GLUE_JUPYTER_TOKEN. In a terminal IPython with no server, an
        embedded engine runs the sessions in this process.

        A line ending in "?" is IPython's help syntax: put questions in a %%glue cell.
        """
        try:
            if cell is not None:
                return self._cell(line, cell)
            cmd, _, rest = line.strip().partition(" ")
            if cmd not in SUBCOMMANDS:
                raise _usage(_unknown_subcommand(cmd) if cmd else "missing subcommand")
            return getattr(self, f"_cmd_{cmd}")(rest.strip())
        except GlueClientError as e:
            raise GlueError(str(e)) from None
        except KeyboardInterrupt:
            print("glue: stopped following (the session goes on)", file=sys.stderr)

    # -- subcommands --------------------------------------------------------------------------
    def _cmd_start(self, rest):
        opts, prompt = parse_options(
            rest, {"--agent": "agent", "-a": "agent", "--cwd": "cwd", "--title": "title", "--wait": "wait",
                   "--kernel": "kernel", "--worktree": "worktree", **CONTEXT_OPTIONS, **AGENT_OPTIONS}
        )
        if "agent" not in opts:
            raise _usage("%glue start needs --agent NAME (see %glue agents)")
        if not prompt and ({"with", "cells"} & set(opts)):
            raise _usage("--with and --cells go with a prompt: %glue start --agent NAME --with df PROMPT")
        cwd = os.path.abspath(os.path.expanduser(opts.get("cwd", ".")))
        context = self._context(opts, prompt) if prompt else None
        kernel = self._kernel_opt_in(opts)
        s = self.client.start(opts["agent"], cwd, title=opts.get("title"), prompt=prompt or None,
                              context=context, notebook=self._notebook_name(), kernel_id=kernel,
                              isolate=bool(opts.get("worktree")), **_agent_options(opts))
        if kernel:
            self.kernel_sessions.add(s["id"])
        if opts.get("worktree"):
            print(f"glue: working in {s['workspace']['worktree']['path']} on branch {s['workspace']['worktree']['branch']}")
        self.current = s["id"]
        return self._after_turn_started(s, opts.get("wait"))

    def _choose(self, option, rest):
        """%glue mode|model|config: the choices, or a switch to one."""
        words = rest.split()
        ref = words[0] if words and self._looks_like_id(words[0]) else None
        words = words[1:] if ref else words
        if option is None:  # config: the option is named first
            option, words = (words[0], words[1:]) if words else (None, [])
        sid = self._target(ref)
        if not words:
            print(agent_state.choices(self.client.get(sid), option))
            return
        s = self.client.configure(sid, option, " ".join(words))
        chosen = agent_state.find(s, option)
        later = " (applies when it resumes)" if s["state"] in ("stopped", "failed") else ""
        print(f"glue: {_label(s)} → {chosen['name']}: {agent_state.choice_name(chosen, chosen['value'])}{later}")

    def _cmd_mode(self, rest):
        self._choose("mode", rest)

    def _cmd_model(self, rest):
        self._choose("model", rest)

    def _cmd_config(self, rest):
        self._choose(None, rest)

    def _cmd_adopt(self, rest):
        opts, rest = parse_options(rest, {"--agent": "agent", "-a": "agent", "--cwd": "cwd", "--title": "title",
                                          "--wait": "wait", **AGENT_OPTIONS})
        if "agent" not in opts:
            raise _usage("%glue adopt needs --agent NAME")
        cwd = os.path.abspath(os.path.expanduser(opts.get("cwd", ".")))
        agent_session, _, message = rest.partition(" ")
        listed = self.client.agent_sessions(opts["agent"], cwd)
        if not agent_session:
            if not listed:
                print(f"{opts['agent']} has no sessions of its own in {cwd}")
                return
            rows = [(e["agent_session_id"], e.get("title") or "", e.get("updated_at") or "",
                     (e.get("glue_session_id") or "")[:8]) for e in listed]
            self._table(rows, ("agent session", "title", "updated", "glue session"))
            return
        title = opts.get("title") or next((e.get("title") for e in listed if e["agent_session_id"] == agent_session),
                                          None)
        s = self.client.start(opts["agent"], cwd, title=title, prompt=message.strip() or None,
                              notebook=self._notebook_name(), agent_session_id=agent_session,
                              **_agent_options(opts))
        self.current = s["id"]
        return self._after_turn_started(s, opts.get("wait"), verb="adopted")

    def _cmd_list(self, rest):
        if rest:
            raise _usage("%glue list takes no arguments (try %glue search TEXT)")
        self._show_list(self.client.list_sessions())

    def _cmd_search(self, rest):
        if not rest:
            raise _usage("%glue search needs some TEXT")
        self._show_list(self.client.list_sessions(q=rest), empty=f"no session mentions {rest!r}")

    def _cmd_agents(self, rest):
        if rest not in ("", "--refresh"):
            raise _usage("%glue agents [--refresh]")
        agents = self.client.agents(refresh=rest == "--refresh")
        self._table(agents_table.rows(agents), agents_table.HEADERS)

    def _cmd_show(self, rest):
        ref = self._one_id(rest, "show")
        sid = self._target(ref) if ref else self._notebook_choice()
        if sid is None:
            return
        if self._widgets:
            self._display(sid)
        else:
            self._print(sid, follow=True)

    def _control(self, verb, rest):
        sid = self._target(self._one_id(rest, verb))
        s = getattr(self.client, verb)(sid)
        print(f"glue: {verb} {_label(s)} → {status_line(s)}")

    def _cmd_interrupt(self, rest):
        self._control("interrupt", rest)

    def _cmd_pause(self, rest):
        self._control("pause", rest)

    def _cmd_stop(self, rest):
        self._control("stop", rest)

    def _answer(self, decision, rest):
        from .client.permissions import answer

        sid = self._target(self._one_id(rest, decision))
        s = answer(self.client, sid, decision)
        print(f"glue: {decision}ed {_label(s)} → {status_line(s)}".replace("denyed", "denied"))

    def _cmd_allow(self, rest):
        self._answer("allow", rest)

    def _cmd_deny(self, rest):
        self._answer("deny", rest)

    def _cmd_rename(self, rest):
        ref = None
        first = rest.split(None, 1)[0] if rest else ""
        if first and len(rest.split()) > 1 and self._looks_like_id(first):
            ref, rest = first, rest[len(first):].strip()
        if not rest:
            raise _usage("%glue rename needs a TITLE")
        s = self.client.rename(self._target(ref), rest)
        print(f"glue: renamed {_label(s)}")

    def _cmd_resume(self, rest):
        ref, rest = self._split_ref(rest)
        opts, text = parse_options(rest, {"--wait": "wait"})
        sid = self._target(ref)
        since = self._seq(sid)
        s = self.client.resume(sid, text or None)
        return self._after_turn_started(s, opts.get("wait"), verb="resumed", since=since)

    def _cmd_fix(self, rest):
        from .kernel_context import last_error

        ref, rest = self._split_ref(rest)
        opts, more = parse_options(rest, {"--agent": "agent", "-a": "agent", "--wait": "wait", **CONTEXT_OPTIONS})
        error = last_error(self.shell, self.errors)
        if error is None:
            raise GlueError("no error to fix: no cell has raised one in this kernel yet")
        where = f"In[{error.execution_count}]" if error.execution_count is not None else "the last cell"
        text = f"Fix the error that {where} raised: {error.summary}" + (f"\n\n{more}" if more else "")
        context = error.context() + self._context(opts, more)
        return self._send(ref, text, context, opts)

    def _cmd_insert(self, rest):
        from .kernel_context.replies import code_blocks, last_reply

        parts = rest.split()
        number = parts.pop() if parts and parts[-1].isdigit() and len(parts[-1]) < 4 else None
        if len(parts) > 1:
            raise _usage("%glue insert takes at most an ID and a block number")
        sid = self._target(parts[0] if parts else None)
        blocks = code_blocks(last_reply(self.client.events(sid)))
        if not blocks:
            raise GlueError("the agent's last reply has no code block")
        index = int(number) if number else len(blocks)
        if not 1 <= index <= len(blocks):
            raise GlueError(f"the agent's last reply has {len(blocks)} code block(s), not a block {index}")
        code = blocks[index - 1][1]
        self.shell.set_next_input(code, replace=False)
        print(f"glue: code block {index} of {len(blocks)} is in a new cell below:\n{code}")

    def _cell(self, line, body):
        tokens = line.split()
        ref = tokens[0] if tokens and not tokens[0].startswith("-") else None
        opts, leftover = parse_options(line[len(ref):] if ref else line,
                                       {"--agent": "agent", "-a": "agent", "--wait": "wait", "--kernel": "kernel",
                                        "--now": "now",
                                        **CONTEXT_OPTIONS})
        if leftover:
            raise _usage(f"unexpected {leftover!r} after %%glue")
        text = body.strip()
        if not text:
            raise _usage("%%glue needs a prompt in the cell body")
        return self._send(ref, text, self._context(opts, text), opts)

    def _send(self, ref, text, context, opts):
        """Prompt the notebook's session (or ID) with text and context: start one if there is
        none, resume it with the prompt if it is paused, stopped or failed."""
        sid = self._target(ref) if ref else self.current
        if context:
            print("glue: attached " + ", ".join(block["name"] for block in context))
        if sid is None:
            agent = opts.get("agent") or os.environ.get(DEFAULT_AGENT_ENV, "demo")
            kernel = self._kernel_opt_in(opts)
            s = self.client.start(agent, os.getcwd(), prompt=text, context=context or None,
                                  notebook=self._notebook_name(), kernel_id=kernel)
            if kernel:
                self.kernel_sessions.add(s["id"])
            self.current = s["id"]
            since = 0
        else:
            session = self.client.get(sid)
            since = 0 if self._widgets else session["last_seq"]
            if session["state"] in ("paused", "stopped", "failed"):
                s = self.client.resume(sid, text, context=context or None)
            else:
                s = self.client.prompt(sid, text, context=context or None, when="now" if opts.get("now") else None)
                if s.get("queue"):
                    print(f"glue: queued for {_label(s)}: it goes when the turn ends ({len(s['queue'])} waiting; "
                          "%glue queue to see or change them)")
                    return
        return self._after_turn_started(s, opts.get("wait"), verb="sent to", since=since)

    def _kernel_opt_in(self, opts) -> str | None:
        """With --kernel: this kernel's id, for the live-kernel tool of the session started."""
        if not opts.get("kernel"):
            return None
        from .kernel_context.notebook import kernel_id

        found = kernel_id()
        if found is None:
            raise GlueError("--kernel gives the agent this notebook's kernel, and this is not a Jupyter kernel")
        return found

    # -- the notebook and its kernel as context ------------------------------------------------
    def _notebook_name(self) -> str | None:
        from .kernel_context.notebook import session_name

        return session_name()

    def _context(self, opts, text) -> list[dict]:
        """The blocks a prompt carries: named variables, the notebook (a link), its cells."""
        from .kernel_context import mentioned_names, variables_context
        from .kernel_context.mentions import UnknownVariables, parse_with
        from .kernel_context import notebook as nb

        namespace = self.shell.user_ns if self.shell is not None else {}
        try:
            names = parse_with(opts["with"]) if "with" in opts else []
            names += [n for n in mentioned_names(text or "", namespace) if n not in names]
            blocks = variables_context(names, namespace)
            path = nb.notebook_file(self.start_dir)
            if path and not opts.get("no_notebook"):
                blocks.append(nb.notebook_link(path))
            cells = opts.get("cells")
            if cells is True:
                if path is None:
                    raise ValueError("--cells needs the notebook file, and this kernel does not know it; "
                                     "name cells by their execution counts: --cells 3,5-7")
                blocks.append(nb.saved_cells_block(path, nb.current_cell_id(self.shell)))
            elif cells:
                blocks += nb.executed_cells(self.shell, nb.parse_cell_spec(cells))
        except UnknownVariables as e:
            raise GlueError(str(e)) from None
        except (ValueError, OSError) as e:
            raise GlueError(str(e)) from None
        return blocks

    def _notebook_choice(self) -> str | None:
        """`%glue show` with no ID: the current session, or this notebook's only one; with
        several and no current one, the list to choose from."""
        name = self._notebook_name()
        sessions = self.client.list_sessions(notebook=name) if name else []
        current = self.current
        if current is None and len(sessions) == 1:
            self.current = current = sessions[0]["id"]
        if current is None:
            if not sessions:
                raise GlueError("no current session in this notebook; `%glue start --agent demo` or pass an ID")
            print(f"glue: this notebook has {len(sessions)} sessions; show one with %glue show ID")
            self._show_list(sessions)
            return None
        others = [s for s in sessions if s["id"] != current]
        if others:
            print(f"glue: this notebook has {len(others)} other session{'s' if len(others) > 1 else ''} "
                  f"({', '.join(s['id'][:8] for s in others)}): %glue show ID")
        return current

    # -- output --------------------------------------------------------------------------------
    def _one_id(self, rest, verb):
        parts = rest.split()
        if len(parts) > 1:
            raise _usage(f"%glue {verb} takes at most one ID")
        return parts[0] if parts else None

    def _after_turn_started(self, s, wait, verb="started", since=0):
        if wait and s["id"] in self.kernel_sessions:
            # Waiting holds this kernel, which the agent's runs need: they would wait for the
            # turn and the turn for them.
            print("glue: not waiting: this session runs code in this kernel, so the cell must not hold it")
            wait = False
        if self._widgets:
            # No state here: it would go stale above the widget, which shows it live.
            print(f"glue: {verb} {_label(s)}")
            if wait:
                self.client.wait(s["id"])
            self._display(s["id"])
        else:
            print(f"glue: {verb} {_label(s)} → {status_line(s)}")
            self._print(s["id"], follow=True, since=since)

    @property
    def _widgets(self) -> bool:
        # A widget needs a notebook front end and a server its front end can talk to.
        return self.rich and not getattr(self.client, "embedded", False)

    def _seq(self, sid) -> int:
        """Where a terminal starts following a new turn (0 when widgets show everything)."""
        return 0 if self._widgets else self.client.get(sid)["last_seq"]

    def _display(self, sid):
        from .widget import GlueWidget

        display(GlueWidget(sid, client=self.client))

    def _print(self, sid, follow=False, since=0):
        """Text for terminals: the transcript, and the running turn as it streams."""
        from .client.stream import follow_until_settled

        session = self.client.get(sid)
        if not follow or (session["state"] in SETTLED and since == 0):
            events = self.client.events(sid, after_seq=since)
            print(snapshot_text(session, events))
            if events:  # read: it no longer needs the user for what it showed
                self.client.mark_seen(sid, events[-1]["seq"])
            return
        stream = TextStream()
        last_seq = 0
        try:
            for ev in follow_until_settled(self.client, sid, since):
                last_seq = ev["seq"]
                sys.stdout.write(stream.feed(ev))
                sys.stdout.flush()
        finally:
            print()
        if last_seq:
            self.client.mark_seen(sid, last_seq)
        if self.client.get(sid)["pending_permissions"]:
            print("glue: the agent waits for your answer: %glue allow  or  %glue deny")

    def _show_list(self, sessions, empty="no sessions yet: %glue start --agent demo PROMPT"):
        if not sessions:
            print(empty)
            return
        self._table(listing.rows(sessions), listing.HEADERS, dots=True)

    def _table(self, rows, headers, dots=False):
        widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
        text = "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [headers, *rows])
        if not self.rich:
            print(text)
            return
        from html import escape

        def cell(i, c):
            if dots and i == 0:
                return f'<td><span style="color:{HTML_COLOURS.get(c, "#8c959f")}">●</span> {escape(c)}</td>'
            return f"<td style='text-align:left'>{escape(str(c))}</td>"

        head = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(r)) + "</tr>" for r in rows)
        display({"text/plain": text, "text/html": f"<table><tr>{head}</tr>{body}</table>"}, raw=True)


def _unknown_subcommand(cmd: str) -> str:
    close = difflib.get_close_matches(cmd, SUBCOMMANDS, n=1, cutoff=0.6)
    return f"unknown subcommand {cmd!r}" + (f"; did you mean {close[0]!r}?" if close else "")


def _agent_options(opts: dict) -> dict:
    """--mode, --model, --set a=b,c=d as client.start's keywords."""
    config = {}
    for pair in filter(None, (opts.get("set") or "").split(",")):
        option, sep, value = pair.partition("=")
        if not sep or not option.strip():
            raise _usage(f"--set takes OPTION=VALUE, not {pair!r}")
        config[option.strip()] = value.strip()
    return {"mode": opts.get("mode"), "model": opts.get("model"), "config": config or None}


def _label(s: dict) -> str:
    return f"{s['id'][:8]} ({s.get('title') or s['agent']})"


_loaded: GlueMagics | None = None


def load_ipython_extension(ipython):
    global _loaded
    if _loaded is not None:  # %reload_ext: one error recorder, not two
        try:
            ipython.events.unregister("post_run_cell", _loaded.errors)
        except ValueError:
            pass
    _loaded = GlueMagics(ipython)
    ipython.register_magics(_loaded)
    ipython.events.register("post_run_cell", _loaded.errors)


def current_session() -> str | None:
    """The id of this notebook's current session (for code that drives it through the client)."""
    return _loaded.current if _loaded is not None else None


def client():
    """The client the magics use (found server, or the embedded engine)."""
    if _loaded is None:
        raise RuntimeError("load the extension first: %load_ext glue_jupyter")
    return _loaded.client

