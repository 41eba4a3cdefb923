"""What the demo agent makes of a prompt's context blocks (ACP resources and resource links).

It has no model, so it does what tests and demos need: it says exactly what it received
(kind, URI, size), proposes a fixed cell for a traceback it can fix by spelling alone, and
offers a code block to take back into a notebook.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

# A resource flattened into text by a client whose agent takes no embedded context.
TEXT_HEADER = re.compile(r"^\[(?P<label>[^\]\n]*) — (?P<uri>\S+)\]\n")
VARIABLE_URI = re.compile(r"/variables/(?P<name>[A-Za-z_]\w*)$")
# What a traceback's last line names as the culprit: "name 'dff' is not defined", "has no
# attribute 'sumn'", or a KeyError's own argument.
NAMED_CULPRIT = re.compile(r"(?:name|attribute|key|module named|column) '(?P<name>[^']+)'")
KEY_CULPRIT = re.compile(r"^\w*Error: '(?P<name>[^']+)'")


@dataclass
class Attachment:
    kind: str  # "resource" | "resource_link" | "text" (a resource sent as a text block)
    uri: str
    text: str = ""
    mime_type: str = ""

    @property
    def variable(self) -> str | None:
        match = VARIABLE_URI.search(self.uri)
        return match.group("name") if match else None


def attachment_of(block: dict) -> Attachment | None:
    """The attachment a prompt block carries, or None for the user's own text."""
    kind = block.get("type")
    if kind == "resource_link" and isinstance(block.get("uri"), str):
        return Attachment("resource_link", block["uri"], mime_type=str(block.get("mimeType") or ""))
    if kind == "resource" and isinstance(block.get("resource"), dict):
        resource = block["resource"]
        return Attachment("resource", str(resource.get("uri", "")), str(resource.get("text") or ""),
                          str(resource.get("mimeType") or ""))
    if kind == "text" and isinstance(block.get("text"), str):
        match = TEXT_HEADER.match(block["text"])
        if match:
            return Attachment("text", match.group("uri"), block["text"][match.end():])
    return None


def acknowledgement(attachments: list[Attachment]) -> str:
    """One line per attachment: what arrived, how, and how big."""
    lines = []
    for a in attachments:
        if a.kind == "resource_link":
            lines.append(f"- a link to `{a.uri}`")
        else:
            how = "an embedded resource" if a.kind == "resource" else "a text block"
            first = a.text.strip().splitlines()[0] if a.text.strip() else "(empty)"
            lines.append(f"- {how} `{a.uri}` ({len(a.text):,} characters): {first}")
    count = "1 attachment" if len(attachments) == 1 else f"{len(attachments)} attachments"
    return f"I received {count}:\n" + "\n".join(lines) + "\n\n"


def _cell_and_traceback(attachments: list[Attachment]) -> tuple[Attachment | None, Attachment | None]:
    cell = next((a for a in attachments if a.mime_type == "text/x-python" or "/cells/" in a.uri), None)
    traceback = next((a for a in attachments if "traceback" in a.mime_type or "/traceback/" in a.uri), None)
    return cell, traceback


def suggest_fix(attachments: list[Attachment]) -> str:
    """A reply for "fix": the error, and the cell corrected when a misspelling explains it."""
    cell, traceback = _cell_and_traceback(attachments)
    if traceback is None:
        return "Send me a traceback (`%glue fix` does) and I will have a look at it."
    error = next((line for line in reversed(traceback.text.strip().splitlines()) if line.strip()), "an error")
    match = NAMED_CULPRIT.search(error) or KEY_CULPRIT.search(error)
    culprit = match.group("name") if match else None
    if cell is None or culprit is None:
        return f"The cell raised `{error}`. I am the demo agent, with no model: I cannot see a fix for that."
    words = set(re.findall(r"[A-Za-z_]\w*", " ".join(a.text for a in attachments))) - {culprit}
    close = difflib.get_close_matches(culprit, sorted(words), n=1, cutoff=0.6)
    if not close:
        return f"The cell raised `{error}`, and nothing I was shown is spelt like `{culprit}`."
    fixed = re.sub(rf"(?<![\w]){re.escape(culprit)}(?![\w])", close[0], cell.text)
    return (f"The cell raised `{error}`: there is no `{culprit}`, did you mean `{close[0]}`? "
            f"Here is the cell with that fixed:\n\n```python\n{fixed.rstrip()}\n```\n")


def suggest_code(attachments: list[Attachment]) -> str:
    """A reply with a code block to take back into a notebook."""
    variable = next((a.variable for a in attachments if a.variable), None)
    code = f"{variable}.describe()" if variable else 'print("hello from the glue demo agent")'
    return f"Here is something to try in a cell:\n\n```python\n{code}\n```\n"
