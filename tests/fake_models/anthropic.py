"""Anthropic Messages API (`POST /v1/messages`, SSE), as Claude Code calls it.

Claude Code reads `ANTHROPIC_BASE_URL` and `ANTHROPIC_API_KEY`. Its tools are `Write`
(`file_path` absolute) and `Bash`; the working directory is in its system prompt.
"""

from __future__ import annotations

import itertools
import json
import re

from .server import Conversation, FakeModel, Run, Text, Write

CWD = re.compile(r"[Ww]orking directory: (/[^\n]*)")
_ids = itertools.count(1)


def _texts(content) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"]


class AnthropicFake(FakeModel):
    vendor = "anthropic"

    def can_write(self, conv: Conversation) -> bool:
        return "Write" in conv.tools

    def can_run(self, conv: Conversation) -> bool:
        return "Bash" in conv.tools

    def parse(self, method, path, body):
        if method != "POST" or not path.split("?")[0].endswith("/v1/messages"):
            return None
        # Claude Code puts a "system" message of its own after the user's: skip it.
        messages = [m for m in body.get("messages") or [] if m.get("role") != "system"]
        last = messages[-1] if messages else {}
        content = last.get("content")
        after_tool = isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in content)
        system = "\n".join(_texts(body.get("system")) + [
            t for m in body.get("messages") or [] if m.get("role") == "system" for t in _texts(m.get("content"))])
        match = CWD.search(system)
        return Conversation(
            prompt="\n".join(t for t in _texts(content) if not t.startswith("<system-reminder>"))
            if last.get("role") == "user" else "",
            after_tool=after_tool,
            tools=[t.get("name", "") for t in body.get("tools") or []],
            stream=bool(body.get("stream")),
            cwd=match.group(1).strip() if match else None,
        )

    def answer(self, http, path, body, conv):
        if conv is None:
            if path.split("?")[0].endswith("/count_tokens"):
                return http.json({"input_tokens": 100})
            return http.json({"type": "error", "error": {"type": "not_found_error", "message": path}}, 404)
        blocks = []
        for move in self.moves(conv):
            if isinstance(move, Text):
                blocks.append(("text", move))
            elif isinstance(move, Write):
                blocks.append(("tool", ("Write", {"file_path": move.path, "content": move.content})))
            elif isinstance(move, Run):
                blocks.append(("tool", ("Bash", {"command": move.command, "description": "Run a command"})))
        stop = "tool_use" if any(kind == "tool" for kind, _ in blocks) else "end_turn"
        message = {"id": f"msg_{next(_ids)}", "type": "message", "role": "assistant",
                   "model": body.get("model", "claude-fake"), "content": [], "stop_reason": None,
                   "stop_sequence": None, "usage": {"input_tokens": 100, "output_tokens": 1}}
        if not conv.stream:
            message["content"] = [self._block(kind, value, full=True) for kind, value in blocks]
            message["stop_reason"] = stop
            return http.json(message)
        http.start_stream()
        http.event({"type": "message_start", "message": message}, "message_start")
        for index, (kind, value) in enumerate(blocks):
            http.event({"type": "content_block_start", "index": index,
                        "content_block": self._block(kind, value, full=False)}, "content_block_start")
            if kind == "text":
                for piece in value.pieces():
                    if not self.wait(value.pace):
                        return
                    http.event({"type": "content_block_delta", "index": index,
                                "delta": {"type": "text_delta", "text": piece}}, "content_block_delta")
            else:
                http.event({"type": "content_block_delta", "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": json.dumps(value[1])}},
                           "content_block_delta")
            http.event({"type": "content_block_stop", "index": index}, "content_block_stop")
        http.event({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 20}}, "message_delta")
        http.event({"type": "message_stop"}, "message_stop")

    @staticmethod
    def _block(kind, value, full: bool) -> dict:
        if kind == "text":
            return {"type": "text", "text": value.text if full else ""}
        name, tool_input = value
        return {"type": "tool_use", "id": f"toolu_{next(_ids)}", "name": name, "input": tool_input if full else {}}
