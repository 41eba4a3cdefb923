"""``jupyter glue``: drive the running server's agent sessions from any terminal."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .client import GlueClientError, connect
from .client.permissions import answer
from .client import agent_state, agents_table, listing
from .client.render import TextStream, dot, status_line
from .client.resolve import resolve_id
from .client.stream import follow_until_settled
from . import cli_workspace

PROG = "jupyter glue"


def _parser() -> argparse.ArgumentParser:
    # Connection options are accepted before or after the subcommand.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=argparse.SUPPRESS, help="server base URL (env GLUE_JUPYTER_URL)")
    common.add_argument("--token", default=argparse.SUPPRESS,
                        help="server token, or with --hub a hub API token (env GLUE_JUPYTER_TOKEN)")
    common.add_argument("--hub", default=argparse.SUPPRESS, metavar="URL",
                        help="a JupyterHub: use the token owner's server there (see --server)")
    common.add_argument("--server", default=argparse.SUPPRESS, metavar="NAME",
                        help="with --hub: which of your named servers (default: the default server)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")

    p = argparse.ArgumentParser(
        prog=PROG, parents=[common],
        description="Start, watch and steer AI agent sessions that live in a Jupyter server.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def cmd(name, help):
        return sub.add_parser(name, help=help, description=help, parents=[common])

    cmd("list", "list sessions").add_argument("--state", help="only sessions in this state")
    s = cmd("show", "show a session's transcript")
    s.add_argument("id")
    s.add_argument("--follow", "-f", action="store_true", help="stream until the session is idle or stopped")
    s = cmd("start", "start a session")
    _new_session_flags(s, "working directory (default: here)")
    s.add_argument("--worktree", action="store_true", help="work in a git worktree of its own, on a new branch")
    s.add_argument("prompt", nargs="*", help="first prompt")
    for name, what in (("mode", "show or change a session's mode"), ("model", "show or change a session's model")):
        s = cmd(name, what)
        s.add_argument("id")
        s.add_argument("value", nargs="?", help=f"the {name} to switch to (default: list them)")
    s = cmd("config", "show or change any option the agent offers (mode, model, …)")
    s.add_argument("id")
    s.add_argument("option", nargs="?", help="an option's id (default: list them all)")
    s.add_argument("value", nargs="?", help="its new value (true/false for a switch)")
    s = cmd("adopt", "continue a session the agent began elsewhere (e.g. in a terminal)")
    _new_session_flags(s, "the folder the agent worked in (default: here)")
    s.add_argument("agent_session", nargs="?", help="the agent's session id (default: list them)")
    s.add_argument("prompt", nargs="*", help="a message to continue with")
    s = cmd("prompt", "send a prompt to a session (queued while a turn runs)")
    s.add_argument("id")
    s.add_argument("--now", action="store_true",
                   help="while a turn runs: interrupt it (or steer it, where the agent can) and send this at once")
    s.add_argument("text", nargs="+")
    for name, what in (("interrupt", "cancel the turn in progress"), ("pause", "freeze a session"),
                       ("stop", "end a session's agent process"), ("forget", "delete a stopped session and its transcript")):
        cmd(name, what).add_argument("id")
    s = cmd("resume", "resume a paused, stopped or failed session")
    s.add_argument("id")
    s.add_argument("text", nargs="*", help="follow-up message")
    for name, what in (("allow", "allow the agent's waiting permission request"),
                       ("deny", "deny the agent's waiting permission request")):
        s = cmd(name, what)
        s.add_argument("id")
        s.add_argument("request", nargs="?", help="which request (default: the oldest waiting)")
    s = cmd("rename", "give a session another title")
    s.add_argument("id")
    s.add_argument("title", nargs="+")
    s = cmd("agents", "the agents the server can launch: installed, signed in, what they can do")
    s.add_argument("--refresh", action="store_true", help="check each agent again (else a recent check is reused)")
    cli_workspace.add_parsers(cmd)
    return p


def _new_session_flags(s: argparse.ArgumentParser, cwd_help: str) -> None:
    """start and adopt: the agent, the folder, a title, and the agent's options."""
    s.add_argument("--agent", "-a", required=True)
    s.add_argument("--cwd", default=".", help=cwd_help)
    s.add_argument("--title")
    s.add_argument("--mode", help="the agent's mode to start in (see: jupyter glue mode ID)")
    s.add_argument("--model", help="the agent's model")
    s.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                   help="any other option the agent offers (repeatable)")


def _config(pairs: list[str]) -> dict | None:
    config = {}
    for pair in pairs:
        option, sep, value = pair.partition("=")
        if not sep or not option:
            raise GlueClientError(f"--set takes OPTION=VALUE, not {pair!r}")
        config[option] = value
    return config or None


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    as_json = getattr(args, "json", False)
    out = Output(as_json)
    try:
        client = connect(getattr(args, "url", None), getattr(args, "token", None), allow_any=True,
                         hub=getattr(args, "hub", None), server=getattr(args, "server", ""))
        return COMMANDS[args.command](client, args, out) or 0
    except GlueClientError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `| head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


class Output:
    def __init__(self, as_json: bool):
        self.json = as_json
        self.colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")

    def data(self, obj):
        print(json.dumps(obj, indent=2))

    def session(self, s: dict, verb: str = ""):
        if self.json:
            return self.data(s)
        print(f"{dot(s['state'], self.colour)} {s['id']}  {verb + ' · ' if verb else ''}{status_line(s)}")


def _table(rows, headers):
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for r in [headers, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


def cmd_list(client, args, out):
    sessions = client.list_sessions(state=args.state)
    if out.json:
        return out.data(sessions)
    if not sessions:
        print("no sessions; start one with: jupyter glue start --agent demo 'your prompt'")
        return
    rows = [(dot(row[0], out.colour) + " " + row[0], *row[1:]) for row in listing.rows(sessions)]
    _table(rows, tuple(h.upper() for h in listing.HEADERS))


def cmd_show(client, args, out):
    sid = resolve_id(client, args.id)
    session = client.get(sid)
    if not args.follow:
        events = client.events(sid)
        if out.json:
            return out.data({"session": session, "events": events})
        print(f"{dot(session['state'], out.colour)} {session.get('title') or 'untitled'}  [{session['agent']}] {session['cwd']}")
        print(f"  {sid} · {status_line(session)}")
        text = TextStream()
        sys.stdout.write("".join(text.feed(e) for e in events))
        print()
        if events:  # the user has now read it: it no longer needs them for what it showed
            client.mark_seen(sid, events[-1]["seq"])
        return
    if not out.json:
        print(f"{dot(session['state'], out.colour)} {session.get('title') or 'untitled'}  [{session['agent']}] {session['cwd']}")
    return _follow(client, sid, out)


def _follow(client, sid, out):
    text = TextStream()
    last_seq = 0
    try:
        for ev in follow_until_settled(client, sid):
            last_seq = ev["seq"]
            if out.json:
                print(json.dumps(ev), flush=True)
            else:
                sys.stdout.write(text.feed(ev))
                sys.stdout.flush()
    finally:
        if not out.json:
            print()
    if not out.json and last_seq:
        client.mark_seen(sid, last_seq)
    if not out.json and client.get(sid)["pending_permissions"]:
        print(f"the agent waits for your answer: {PROG} allow {sid[:8]}  or  {PROG} deny {sid[:8]}")


def cmd_start(client, args, out):
    cwd = os.path.abspath(args.cwd)  # the user means *their* folder, not the server's root
    s = client.start(args.agent, cwd, title=args.title, prompt=" ".join(args.prompt) or None,
                     mode=args.mode, model=args.model, config=_config(args.set), isolate=args.worktree)
    out.session(s, f"started in worktree {s['workspace']['worktree']['path']}" if args.worktree else "started")


def _choose(option_of):
    """`mode` / `model` / `config`: list the choices, or switch to one."""
    def run(client, args, out):
        sid = resolve_id(client, args.id)
        option = option_of(args)
        if args.value is None:
            session = client.get(sid)
            if out.json:
                return out.data(session["config"])
            print(agent_state.choices(session, option))
            return
        out.session(client.configure(sid, option, args.value), f"{option} set")

    return run


def cmd_adopt(client, args, out):
    cwd = os.path.abspath(args.cwd)
    if args.agent_session is None:
        listed = client.agent_sessions(args.agent, cwd)
        if out.json:
            return out.data(listed)
        if not listed:
            print(f"{args.agent} has no sessions of its own in {cwd}")
            return
        rows = [(entry["agent_session_id"], entry.get("title") or "", entry.get("updated_at") or "",
                 (entry.get("glue_session_id") or "")[:8]) for entry in listed]
        _table(rows, ("AGENT SESSION", "TITLE", "UPDATED", "GLUE SESSION"))
        print(f"adopt one with: {PROG} adopt --agent {args.agent} AGENT_SESSION [message]")
        return
    title = args.title or next((entry.get("title") for entry in client.agent_sessions(args.agent, cwd)
                                if entry["agent_session_id"] == args.agent_session), None)
    s = client.start(args.agent, cwd, title=title, prompt=" ".join(args.prompt) or None, mode=args.mode,
                     model=args.model, config=_config(args.set), agent_session_id=args.agent_session)
    out.session(s, "adopted")


def cmd_prompt(client, args, out):
    s = client.prompt(resolve_id(client, args.id), " ".join(args.text), when="now" if args.now else None)
    queued = len(s.get("queue") or [])
    out.session(s, f"queued ({queued} waiting for the turn to end)" if queued else "prompted")


def _control(verb, done):
    def run(client, args, out):
        out.session(getattr(client, verb)(resolve_id(client, args.id)), done)

    return run


def _answer(decision, done):
    def run(client, args, out):
        out.session(answer(client, resolve_id(client, args.id), decision, args.request), done)

    return run


def cmd_resume(client, args, out):
    out.session(client.resume(resolve_id(client, args.id), " ".join(args.text) or None), "resumed")


def cmd_rename(client, args, out):
    out.session(client.rename(resolve_id(client, args.id), " ".join(args.title)), "renamed")


def cmd_forget(client, args, out):
    sid = resolve_id(client, args.id)
    client.forget(sid)
    if out.json:
        return out.data({"forgotten": sid})
    print(f"forgot {sid}")


def cmd_agents(client, args, out):
    agents = client.agents(refresh=args.refresh)
    if out.json:
        return out.data(agents)
    _table(agents_table.rows(agents), tuple(h.upper() for h in agents_table.HEADERS))


COMMANDS = {
    "list": cmd_list, "show": cmd_show, "start": cmd_start, "prompt": cmd_prompt,
    "interrupt": _control("interrupt", "interrupted"), "pause": _control("pause", "paused"),
    "stop": _control("stop", "stopped"),
    "allow": _answer("allow", "allowed"), "deny": _answer("deny", "denied"),
    "resume": cmd_resume, "rename": cmd_rename, "forget": cmd_forget, "agents": cmd_agents,
    "mode": _choose(lambda args: "mode"), "model": _choose(lambda args: "model"),
    "config": _choose(lambda args: args.option), "adopt": cmd_adopt,
    **cli_workspace.COMMANDS,
}

if __name__ == "__main__":
    sys.exit(main())
