"""Run code in a kernel of this server and tell what happened, as text.

It does not queue behind the user's cells: it waits until the kernel is idle, then sends the
execute request (not stored in the kernel's history, so the user's In[n] numbering is left
alone). If it is cancelled while its code runs — the agent's turn was interrupted — it
interrupts the kernel and waits for it to settle before giving up.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

from ..engine.client_tools import ToolOutcome

OUTPUT_CHARS = 20_000
IDLE_TIMEOUT = 60.0
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class Outputs:
    """What an execution printed and returned, bounded."""

    def __init__(self):
        self.parts: list[str] = []
        self.error: str | None = None
        self.started = False
        self.done = False

    def take(self, message: dict) -> None:
        kind, content = message["header"]["msg_type"], message["content"]
        if kind == "status":
            self.started = self.started or content.get("execution_state") == "busy"
            self.done = content.get("execution_state") == "idle"
        elif kind == "stream":
            self.parts.append(content.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            data = content.get("data") or {}
            if "text/plain" in data:
                self.parts.append(str(data["text/plain"]) + "\n")
            else:
                self.parts.append(f"[{', '.join(sorted(data)) or 'empty'} output]\n")
        elif kind == "error":
            trace = "\n".join(content.get("traceback") or [])
            self.error = ANSI.sub("", trace) or f"{content.get('ename')}: {content.get('evalue')}"
        elif kind == "clear_output":
            self.parts.clear()

    def outcome(self) -> ToolOutcome:
        text = "".join(self.parts)
        if self.error:
            text += ("\n" if text and not text.endswith("\n") else "") + self.error
        if len(text) > OUTPUT_CHARS:
            half = OUTPUT_CHARS // 2
            text = f"{text[:half]}\n… ({len(text) - OUTPUT_CHARS:,} characters cut) …\n{text[-half:]}"
        return ToolOutcome(text or "(no output)", failed=self.error is not None,
                           raw_output={"status": "error" if self.error else "ok"})


async def _next(client, timeout: float) -> dict:
    return await asyncio.wait_for(client.get_iopub_msg(), timeout)


async def run_code(kernel_manager, code: str, timeout: float) -> ToolOutcome:
    """Execute `code` in the kernel of `kernel_manager` (an AsyncKernelManager)."""
    client = kernel_manager.client()
    client.start_channels()
    outputs = Outputs()
    try:
        loop = asyncio.get_running_loop()
        # A kernel_info round trip: our IOPub subscription is live (no missed "busy"), and a
        # kernel busy with the user's cell answers only once it is done, so we do not queue.
        try:
            await client.wait_for_ready(timeout=IDLE_TIMEOUT)
        except RuntimeError:
            return ToolOutcome(f"Not run: the kernel stayed busy with another cell for {IDLE_TIMEOUT:g} s "
                               "(or is gone).", failed=True, raw_output={"status": "busy"})
        msg_id = client.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
        deadline = loop.time() + timeout
        try:
            while not outputs.done:
                message = await _next(client, max(0.01, deadline - loop.time()))
                if message.get("parent_header", {}).get("msg_id") == msg_id:
                    outputs.take(message)
        except asyncio.TimeoutError:
            await _interrupt(kernel_manager, client, msg_id, outputs)
            result = outputs.outcome()
            return ToolOutcome(f"{result.text}\nInterrupted after {timeout:g} s (the kernel tool's time limit).",
                               failed=True, raw_output={"status": "timeout"})
        except asyncio.CancelledError:
            if outputs.started and not outputs.done:
                await _interrupt(kernel_manager, client, msg_id, outputs)
            raise
        return outputs.outcome()
    finally:
        client.stop_channels()


async def _interrupt(kernel_manager, client, msg_id: str, outputs: Outputs) -> None:
    """Interrupt the kernel and let our execution wind down (a few seconds at most)."""
    await kernel_manager.interrupt_kernel()

    async def settle():
        while not outputs.done:
            message = await client.get_iopub_msg()
            if message.get("parent_header", {}).get("msg_id") == msg_id:
                outputs.take(message)

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(settle(), 5)
