"""The kernel tool as an MCP server over stdio: newline-delimited JSON-RPC, stdlib only (it
starts with the agent's every session). One tool, ``run_in_kernel``; each call is forwarded to
the Jupyter server with the session's grant, which does the gating, recording and running.

Environment: GLUE_KERNEL_TOOL_URL (the server's base URL), GLUE_KERNEL_TOOL_TOKEN (the grant).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

from .. import __version__

PROTOCOL_VERSIONS = ("2025-06-18", "2025-03-26", "2024-11-05")
TOOL = {
    "name": "run_in_kernel",
    "title": "Run code in the notebook's kernel",
    "description": (
        "Run Python code in the live Jupyter kernel of the user's notebook and return what it "
        "printed, its result and any error. The kernel holds the user's variables (DataFrames, "
        "models…): inspect them rather than reloading data. Every run is shown to the user, who "
        "may have to allow it; keep runs short and side-effect free unless asked."),
    "inputSchema": {"type": "object", "properties": {"code": {"type": "string", "description": "Python code"}},
                    "required": ["code"], "additionalProperties": False},
}
CALL_TIMEOUT = 3600.0  # the server bounds each execution itself


def forward(code: str) -> tuple[str, bool]:
    """(text, is_error) from the Jupyter server for one run."""
    url = os.environ.get("GLUE_KERNEL_TOOL_URL", "").rstrip("/") + "/api/glue/kernel-tool"
    request = urllib.request.Request(url, data=json.dumps({"code": code}).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"glue-tool {os.environ.get('GLUE_KERNEL_TOOL_TOKEN', '')}")
    try:
        with urllib.request.urlopen(request, timeout=CALL_TIMEOUT) as response:
            answer = json.loads(response.read() or b"{}")
        return str(answer.get("text", "")), bool(answer.get("failed"))
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read() or b"{}").get("message") or error.reason
        except ValueError:
            message = error.reason
        return f"Not run: {message}", True
    except (urllib.error.URLError, OSError) as error:
        return f"Not run: the Jupyter server cannot be reached ({getattr(error, 'reason', error)})", True


def handle(message: dict) -> dict | None:
    """The answer to one JSON-RPC message (None for notifications)."""
    method, params, request_id = message.get("method"), message.get("params") or {}, message.get("id")
    if request_id is None:
        return None  # notifications/initialized and friends
    if method == "initialize":
        asked = params.get("protocolVersion")
        result = {"protocolVersion": asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0],
                  "capabilities": {"tools": {"listChanged": False}},
                  "serverInfo": {"name": "glue-kernel", "title": "glue_jupyter kernel tool", "version": __version__}}
    elif method == "ping":
        result = {}
    elif method == "tools/list":
        result = {"tools": [TOOL]}
    elif method == "tools/call":
        arguments = params.get("arguments") or {}
        if params.get("name") != TOOL["name"] or not isinstance(arguments.get("code"), str):
            return {"jsonrpc": "2.0", "id": request_id,
                    "error": {"code": -32602, "message": "call run_in_kernel with a string 'code'"}}
        text, failed = forward(arguments["code"])
        result = {"content": [{"type": "text", "text": text}], "isError": failed}
    else:
        return {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": f"Method not found: {method}"}}
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def main() -> None:
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
        except ValueError:
            answer = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
        else:
            answer = handle(message) if isinstance(message, dict) else None
        if answer is not None:
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
