"""Gemini API (`…/models/{model}:streamGenerateContent?alt=sse`), as Gemini CLI calls it.

Gemini CLI reads `GOOGLE_GEMINI_BASE_URL` and takes any `GEMINI_API_KEY`. Its tools are
`write_file` and `run_shell_command`. Requests for JSON (the CLI's own checks, such as whether
the model or the user speaks next) get a JSON answer that hands the turn back to the user.
"""

from __future__ import annotations

import re

from .server import Conversation, FakeModel, Run, Text, Write

ROUTE = re.compile(r"/models/([^/:?]+):(streamGenerateContent|generateContent|countTokens)")
CWD = re.compile(r"(?:working directory|current working directory)[^/\n]*?(/[^\s'\"`]+)", re.I)
USAGE = {"promptTokenCount": 100, "candidatesTokenCount": 20, "totalTokenCount": 120}


def _texts(content: dict) -> list[str]:
    return [p["text"] for p in content.get("parts") or [] if isinstance(p, dict) and isinstance(p.get("text"), str)]


class GeminiFake(FakeModel):
    vendor = "gemini"

    def can_write(self, conv: Conversation) -> bool:
        return "write_file" in conv.tools

    def can_run(self, conv: Conversation) -> bool:
        return "run_shell_command" in conv.tools

    def parse(self, method, path, body):
        route = ROUTE.search(path)
        if method != "POST" or route is None or route.group(2) == "countTokens":
            return None
        contents = [c for c in body.get("contents") or [] if isinstance(c, dict)]
        last = contents[-1] if contents else {}
        after_tool = any(isinstance(p, dict) and "functionResponse" in p for p in last.get("parts") or [])
        tools = [d.get("name", "") for t in body.get("tools") or [] for d in t.get("functionDeclarations") or []]
        system = "\n".join(_texts(body.get("systemInstruction") or {}))
        match = CWD.search(system + "\n" + "\n".join(t for c in contents for t in _texts(c)))
        return Conversation(
            prompt="\n".join(_texts(last)) if last.get("role") == "user" else "",
            after_tool=after_tool,
            tools=tools,
            stream=route.group(2) == "streamGenerateContent",
            cwd=match.group(1).rstrip(".") if match else None,
        )

    def answer(self, http, path, body, conv):
        if conv is None:
            if ROUTE.search(path):
                return http.json({"totalTokens": 100})
            return http.json({"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}}, 404)
        wants_json = (body.get("generationConfig") or {}).get("responseMimeType") == "application/json"
        if wants_json or not conv.stream:
            text = '{"reasoning": "The fake model is done.", "next_speaker": "user"}' if wants_json else "Done."
            return http.json({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                                              "finishReason": "STOP", "index": 0}], "usageMetadata": USAGE})
        http.start_stream()
        moves = self.moves(conv)
        for number, move in enumerate(moves):
            final = number == len(moves) - 1
            if isinstance(move, Text):
                pieces = move.pieces()
                for i, piece in enumerate(pieces):
                    if not self.wait(move.pace):
                        return
                    self._chunk(http, [{"text": piece}], final and i == len(pieces) - 1)
            elif isinstance(move, Write):
                self._chunk(http, [{"functionCall": {"name": "write_file",
                                                     "args": {"file_path": move.path, "content": move.content}}}], final)
            elif isinstance(move, Run):
                self._chunk(http, [{"functionCall": {"name": "run_shell_command",
                                                     "args": {"command": move.command,
                                                              "description": "Run a command"}}}], final)

    @staticmethod
    def _chunk(http, parts: list[dict], final: bool) -> None:
        candidate = {"content": {"role": "model", "parts": parts}, "index": 0}
        chunk = {"candidates": [candidate]}
        if final:
            candidate["finishReason"] = "STOP"
            chunk["usageMetadata"] = USAGE
        http.event(chunk)
