"""Context blocks: what a prompt carries besides its text (docs/contract.md, "Prompt context").

A surface attaches context as generic blocks, in our snake_case form of ACP's content blocks:

- ``{"type": "resource", "uri", "name", "text", "title"?, "mime_type"?}`` — embedded text
  (a variable's description, a cell's source, a traceback), ACP's EmbeddedResource;
- ``{"type": "resource_link", "uri", "name", "title"?, "mime_type"?, "description"?}`` —
  a pointer the agent can follow itself (a notebook's path), ACP's ResourceLink.

The engine does not know what a block describes. It checks the shape and the size, turns
the blocks into ACP content blocks for the agent, and falls back to a plain text block for
an embedded resource when the agent does not take embedded context (ACP's
``promptCapabilities.embeddedContext``; text and resource links every agent takes). What
was sent, exactly, is recorded in the ``user_message`` event.
"""

from __future__ import annotations

from .errors import InvalidRequest

MAX_BLOCKS = 32
MAX_BLOCK_CHARS = 256 * 1024
MAX_TOTAL_CHARS = 1024 * 1024

_REQUIRED = {"resource": ("uri", "name", "text"), "resource_link": ("uri", "name")}
_OPTIONAL = {"resource": ("title", "mime_type"), "resource_link": ("title", "mime_type", "description")}


def check_context(context) -> list[dict]:
    """The blocks, checked: a list of known block types with string fields, within bounds."""
    if context is None:
        return []
    if not isinstance(context, list):
        raise InvalidRequest("context must be a list of blocks.")
    if len(context) > MAX_BLOCKS:
        raise InvalidRequest(f"context holds {len(context)} blocks; at most {MAX_BLOCKS} are accepted.")
    checked, total = [], 0
    for index, block in enumerate(context):
        where = f"context[{index}]"
        if not isinstance(block, dict) or block.get("type") not in _REQUIRED:
            raise InvalidRequest(f"{where} must be an object of type 'resource' or 'resource_link'.")
        kind = block["type"]
        unknown = set(block) - {"type", *_REQUIRED[kind], *_OPTIONAL[kind]}
        if unknown:
            raise InvalidRequest(f"{where} has unknown field(s): {', '.join(sorted(unknown))}.")
        for name in _REQUIRED[kind]:
            value = block.get(name)
            if not isinstance(value, str) or (name != "text" and not value.strip()):
                raise InvalidRequest(f"{where}.{name} must be a non-empty string.")
        for name in _OPTIONAL[kind]:
            if name in block and not isinstance(block[name], str):
                raise InvalidRequest(f"{where}.{name} must be a string.")
        size = len(block.get("text", ""))
        if size > MAX_BLOCK_CHARS:
            raise InvalidRequest(f"{where} ({block['name']}) holds {size:,} characters; "
                                 f"at most {MAX_BLOCK_CHARS:,} are accepted per block.")
        total += size
        checked.append({k: block[k] for k in ("type", *_REQUIRED[kind], *_OPTIONAL[kind]) if k in block})
    if total > MAX_TOTAL_CHARS:
        raise InvalidRequest(f"context holds {total:,} characters in all; at most {MAX_TOTAL_CHARS:,} are accepted.")
    return checked


def as_text(block: dict) -> str:
    """The plain-text form of an embedded resource, for agents without embedded context."""
    label = block.get("title") or block["name"]
    return f"[{label} — {block['uri']}]\n{block['text']}"


def to_acp(blocks: list[dict], embedded_context: bool) -> tuple[list[dict], list[dict]]:
    """(ACP content blocks, the record of what was sent) for checked context blocks."""
    wire, sent = [], []
    for block in blocks:
        if block["type"] == "resource_link":
            link = {"type": "resource_link", "uri": block["uri"], "name": block["name"]}
            for ours, theirs in (("title", "title"), ("mime_type", "mimeType"), ("description", "description")):
                if ours in block:
                    link[theirs] = block[ours]
            wire.append(link)
            sent.append({**block, "sent_as": "resource_link"})
        elif embedded_context:
            resource = {"uri": block["uri"], "text": block["text"]}
            if "mime_type" in block:
                resource["mimeType"] = block["mime_type"]
            wire.append({"type": "resource", "resource": resource})
            sent.append({**block, "sent_as": "resource"})
        else:
            text = as_text(block)
            wire.append({"type": "text", "text": text})
            sent.append({**block, "text": text, "sent_as": "text"})
    return wire, sent
