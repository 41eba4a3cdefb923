"""OpenAI Responses API (`POST …/responses`, SSE), as Codex calls it.

Codex takes the fake as a custom provider in `$CODEX_HOME/config.toml`
(`base_url = <url>/v1`, `wire_api = "responses"`). Files are written with its `apply_patch`
tool (a freeform "custom" tool, or a function taking `input`), commands run with whichever
shell tool the request offers.
"""

from __future__ import annotations

import itertools
import json
import re
import time

from .server import Conversation, FakeModel, Run, Text, Write

CWD = re.compile(r"<cwd>([^<]+)</cwd>")
TOOL_RESULTS = ("function_call_output", "custom_tool_call_output", "local_shell_call_output")
SHELL_TOOLS = ("shell_command", "exec_command", "shell", "local_shell")
_ids = itertools.count(1)


def _texts(item: dict) -> list[str]:
    content = item.get("content")
    if isinstance(content, str):
        return [content]
    return [c.get("text", "") for c in content or [] if isinstance(c, dict) and "text" in c]


class OpenAIResponsesFake(FakeModel):
    vendor = "openai"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tool_types: dict[str, str] = {}

    def can_write(self, conv: Conversation) -> bool:
        return "apply_patch" in conv.tools

    def can_run(self, conv: Conversation) -> bool:
        return any(name in conv.tools for name in SHELL_TOOLS)

    def parse(self, method, path, body):
        if method != "POST" or not path.split("?")[0].endswith("/responses"):
            return None
        items = [i for i in body.get("input") or [] if isinstance(i, dict)]
        last = items[-1] if items else {}
        user = next((i for i in reversed(items) if i.get("role") == "user"), {})
        tools = []
        for tool in body.get("tools") or []:
            name = tool.get("name") or tool.get("type", "")
            self.tool_types[name] = tool.get("type", "function")
            tools.append(name)
        everything = "\n".join(t for i in items for t in _texts(i))
        match = None
        for match in CWD.finditer(everything):
            pass
        return Conversation(
            prompt="\n".join(_texts(user)),
            after_tool=last.get("type") in TOOL_RESULTS,
            tools=tools,
            stream=bool(body.get("stream", True)),
            cwd=match.group(1).strip() if match else None,
        )

    def answer(self, http, path, body, conv):
        if conv is None:
            if path.split("?")[0].endswith("/models"):
                return http.json({"object": "list", "data": [], "models": []})
            return http.json({"error": {"message": f"no route {path}", "type": "not_found"}}, 404)
        response_id = f"resp_{next(_ids)}"
        model = body.get("model", "gpt-fake")
        http.start_stream()
        http.event({"type": "response.created", "response": {
            "id": response_id, "object": "response", "created_at": int(time.time()),
            "status": "in_progress", "model": model, "output": []}}, "response.created")
        output = []
        for index, move in enumerate(self.moves(conv)):
            if isinstance(move, Text):
                item_id = f"msg_{next(_ids)}"
                http.event({"type": "response.output_item.added", "output_index": index, "item": {
                    "id": item_id, "type": "message", "role": "assistant", "status": "in_progress",
                    "content": []}}, "response.output_item.added")
                for piece in move.pieces():
                    if not self.wait(move.pace):
                        return
                    http.event({"type": "response.output_text.delta", "item_id": item_id,
                                "output_index": index, "content_index": 0, "delta": piece},
                               "response.output_text.delta")
                item = {"id": item_id, "type": "message", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": move.text, "annotations": []}]}
            else:
                item = self._tool_item(conv, move)
                http.event({"type": "response.output_item.added", "output_index": index, "item": item},
                           "response.output_item.added")
            http.event({"type": "response.output_item.done", "output_index": index, "item": item},
                       "response.output_item.done")
            output.append(item)
        http.event({"type": "response.completed", "response": {
            "id": response_id, "object": "response", "created_at": int(time.time()), "status": "completed",
            "model": model, "output": output,
            "usage": {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens": 20, "output_tokens_details": {"reasoning_tokens": 0},
                      "total_tokens": 120}}}, "response.completed")

    def _tool_item(self, conv: Conversation, move) -> dict:
        call_id = f"call_{next(_ids)}"
        if isinstance(move, Write):
            patch = "*** Begin Patch\n*** Add File: {}\n{}*** End Patch\n".format(
                move.path, "".join(f"+{line}\n" for line in move.content.splitlines()))
            if self.tool_types.get("apply_patch") == "custom":
                return {"type": "custom_tool_call", "id": f"ctc_{call_id}", "call_id": call_id,
                        "name": "apply_patch", "input": patch, "status": "completed"}
            return self._function(call_id, "apply_patch", {"input": patch})
        name = next(n for n in SHELL_TOOLS if n in conv.tools)
        if name == "exec_command":
            # As a model does for a command that must write: ask to leave the sandbox, which
            # Codex turns into a permission request unless its mode approves on its own.
            args = {"cmd": move.command, "sandbox_permissions": "require_escalated",
                    "justification": f"Run {move.command}?"}
        elif name == "shell_command":
            args = {"command": move.command}
        else:
            args = {"command": ["bash", "-lc", move.command]}
        return self._function(call_id, name, args)

    @staticmethod
    def _function(call_id: str, name: str, args: dict) -> dict:
        return {"type": "function_call", "id": f"fc_{call_id}", "call_id": call_id, "name": name,
                "arguments": json.dumps(args), "status": "completed"}
