"""The demo agent's `edit` keyword: real file operations in the session's folder.

`edit` followed by operations separated by `;` or new lines (shell-like quoting):
  create NAME [TEXT…]     write NAME with TEXT (and a final newline); `\\n` in TEXT is a newline
  append NAME TEXT…       add a line to NAME (created if missing)
  delete NAME             remove a file
  rename OLD NEW          move a file (directories made as needed)
  chmod NAME              make a file executable
  run COMMAND…            run `sh -c COMMAND` in the folder (a tool process that writes, say)
  wait SECONDS            pause (so a turn can be watched, steered or interrupted midway)
A bare `edit` does a small canned set (create, append, rename, run) under `demo_edits/`.
The whole list is one permission request (glue's policy decides), then one tool call each.
Paths must stay inside the folder; an operation that fails is reported and the rest go on.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
from asyncio.subprocess import PIPE

from .turns import Turn, inside, read_text, text_content

DEFAULT_OPERATIONS = (
    "create demo_edits/hello.py print('hello from the glue demo agent')",
    "append demo_edits/log.md one more line from the demo agent",
    "rename demo_edits/hello.py demo_edits/greeting.py",
    "run date -u +%Y-%m-%dT%H:%M:%SZ > demo_edits/stamp.txt",
)
KIND = {"create": "edit", "append": "edit", "delete": "delete", "rename": "move", "chmod": "edit",
        "run": "execute", "wait": "other"}
ARITY = {"create": 1, "append": 2, "delete": 1, "rename": 2, "chmod": 1, "run": 1, "wait": 1}


class BadOperation(Exception):
    pass


def parse(text: str) -> list[tuple[str, list[str]]]:
    """[(verb, arguments)] from the text after the keyword `edit`."""
    match = re.search(r"\bedit\b(.*)", text, re.IGNORECASE | re.DOTALL)
    body = match.group(1).strip(" :\n") if match else ""
    pieces = [p.strip() for p in re.split(r"[;\n]", body) if p.strip()] or list(DEFAULT_OPERATIONS)
    operations = []
    for piece in pieces:
        verb, _, rest = piece.partition(" ")
        verb = verb.lower()
        if verb not in KIND:
            raise BadOperation(f"unknown operation {verb!r} (create, append, delete, rename, chmod, run, wait)")
        if verb == "run":
            args = [rest.strip()]
        elif verb in ("create", "append"):  # a name, then the text verbatim
            name = re.match(r"""\s*("[^"]*"|'[^']*'|\S*)\s*(.*)$""", rest, re.DOTALL)
            args = [shlex.split(name.group(1))[0] if name.group(1) else "", name.group(2)]
            args = args if args[1] or verb == "create" else args[:1]
        else:
            args = shlex.split(rest)
        if len(args) < ARITY[verb] or not all(args[:ARITY[verb]]):
            raise BadOperation(f"`{piece}` needs {ARITY[verb]} argument(s)")
        operations.append((verb, args))
    return operations


def describe(verb: str, args: list[str]) -> str:
    return {"create": "Create {0}", "append": "Append to {0}", "delete": "Delete {0}",
            "rename": "Rename {0} to {1}", "chmod": "Make {0} executable", "run": "Run `{0}`",
            "wait": "Wait {0} s"}[verb].format(*args)


async def edit(turn: Turn, text: str) -> str:
    try:
        operations = parse(text)
    except (BadOperation, ValueError) as exc:
        await turn.stream(f"I could not read the edit operations: {exc}.")
        return "end_turn"
    summary = "; ".join(describe(verb, args) for verb, args in operations)
    ask_id = turn.new_tool_call_id()
    request = {"toolCallId": ask_id, "title": f"{len(operations)} file operation(s): {summary}",
               "kind": "edit", "status": "pending", "rawInput": {"operations": [[v, *a] for v, a in operations]}}
    await turn.start_tool(request)
    if await turn.ask_permission(request) != "allow":
        await turn.update_tool(ask_id, status="failed", content=[text_content("Permission denied.")])
        await turn.stream("Permission was denied, so I changed nothing.")
        return "end_turn"
    await turn.update_tool(ask_id, status="completed")
    done = 0
    for verb, args in operations:
        done += await run_operation(turn, verb, args)
        await turn.pause()
    await turn.stream(f"Done: {done} of {len(operations)} operation(s) succeeded.")
    return "end_turn"


async def run_operation(turn: Turn, verb: str, args: list[str]) -> int:
    """One tool call; 1 if it succeeded."""
    call_id = turn.new_tool_call_id()
    paths = [inside(turn.cwd, a) for a in (args[:2] if verb == "rename" else args[:1])] if verb not in ("run", "wait") else []
    locations = [{"path": p} for p in paths if p]
    await turn.start_tool({"toolCallId": call_id, "title": describe(verb, args), "kind": KIND[verb],
                           "status": "in_progress", "locations": locations, "rawInput": {verb: args}})
    if any(p is None for p in paths):
        await turn.update_tool(call_id, status="failed",
                               content=[text_content("Refused: the path is outside the working directory.")])
        return 0
    try:
        content = await OPERATIONS[verb](turn, args, paths)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        await turn.update_tool(call_id, status="failed", content=[text_content(f"{type(exc).__name__}: {exc}")])
        return 0
    await turn.update_tool(call_id, status="completed", content=content)
    return 1


async def _create(turn, args, paths):
    text = (args[1] if len(args) > 1 else "").replace("\\n", "\n") + "\n"
    return _write(paths[0], None, text)


async def _append(turn, args, paths):
    old = read_text(paths[0])
    return _write(paths[0], old, (old or "") + args[1].replace("\\n", "\n") + "\n")


def _write(path: str, old: str | None, new: str) -> list[dict]:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as file:
        file.write(new)
    return [{"type": "diff", "path": path, "oldText": old, "newText": new}]


async def _delete(turn, args, paths):
    os.remove(paths[0])
    return [text_content(f"Deleted {args[0]}.")]


async def _rename(turn, args, paths):
    os.makedirs(os.path.dirname(paths[1]), exist_ok=True)
    os.rename(paths[0], paths[1])
    return [text_content(f"Renamed {args[0]} to {args[1]}.")]


async def _chmod(turn, args, paths):
    mode = os.stat(paths[0]).st_mode
    os.chmod(paths[0], mode | 0o111)
    return [text_content(f"{args[0]} is executable now.")]


async def _run(turn, args, paths):
    process = await turn.spawn("sh", "-c", args[0], stdout=PIPE)
    out, err = await process.communicate()
    output = (out + err).decode(errors="replace").strip()
    if process.returncode != 0:
        raise ValueError(f"exit code {process.returncode}: {output[:500]}")
    return [text_content(output or f"`{args[0]}` exited with code 0.")]


async def _wait(turn, args, paths):
    await asyncio.sleep(float(args[0]))
    return [text_content(f"Waited {args[0]} s.")]


OPERATIONS = {"create": _create, "append": _append, "delete": _delete, "rename": _rename, "chmod": _chmod,
              "run": _run, "wait": _wait}
