"""A tiny MCP client over stdio (stdlib only): enough for the demo agent to use the MCP servers
a client hands it in session/new (ACP ``mcpServers``, the stdio kind): initialize, list the
tools, call one."""

from __future__ import annotations

import asyncio
import json
import os
from asyncio.subprocess import PIPE

PROTOCOL_VERSION = "2025-06-18"


class McpError(Exception):
    pass


def stdio_servers(servers: object) -> list[dict]:
    """The stdio entries of an ACP mcpServers list (http/sse ones have a type, stdio none)."""
    return [s for s in servers or [] if isinstance(s, dict) and "command" in s and s.get("type", "stdio") == "stdio"]


class McpClient:
    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process
        self._next_id = 0

    @classmethod
    async def start(cls, server: dict, spawn) -> "McpClient":
        """`spawn(*argv, env=…)` starts the process (the turn's, so a cancel kills it)."""
        env = {**os.environ, **{e["name"]: e["value"] for e in server.get("env") or []
                                if isinstance(e, dict) and "name" in e and "value" in e}}
        process = await spawn(server["command"], *server.get("args") or [], env=env)
        client = cls(process)
        await client.request("initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                                            "clientInfo": {"name": "glue-demo", "version": "1"}})
        client.notify("notifications/initialized")
        return client

    def notify(self, method: str, params: dict | None = None) -> None:
        message = {"jsonrpc": "2.0", "method": method, **({"params": params} if params else {})}
        self.process.stdin.write((json.dumps(message) + "\n").encode())

    async def request(self, method: str, params: dict) -> dict:
        self._next_id += 1
        request_id = self._next_id
        self.process.stdin.write((json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method,
                                              "params": params}) + "\n").encode())
        await self.process.stdin.drain()
        while True:
            line = await self.process.stdout.readline()
            if not line:
                raise McpError(f"the MCP server ended before answering {method}")
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("id") == request_id:
                if "error" in message:
                    raise McpError(str((message["error"] or {}).get("message", message["error"])))
                return message.get("result") or {}

    async def tools(self) -> list[dict]:
        return (await self.request("tools/list", {})).get("tools") or []

    async def call(self, name: str, arguments: dict) -> tuple[str, bool]:
        result = await self.request("tools/call", {"name": name, "arguments": arguments})
        text = "".join(c.get("text", "") for c in result.get("content") or [] if isinstance(c, dict))
        return text, bool(result.get("isError"))

    def close(self) -> None:
        if self.process.returncode is None:
            self.process.stdin.close()
