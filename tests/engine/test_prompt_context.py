"""Prompts that carry context blocks (docs/contract.md, "Prompt context"), on real demo agents:
embedded resources when the agent takes them, text blocks when it does not, links always;
what was sent is what the transcript records; bad blocks are refused and nothing is sent."""

from __future__ import annotations

import pytest

from glue_jupyter.engine import InvalidRequest
from glue_jupyter.engine.context import MAX_BLOCK_CHARS, MAX_BLOCKS, as_text

DF = {"type": "resource", "uri": "jupyter://kernel/variables/df", "name": "df",
      "title": "df: pandas DataFrame, 3 rows × 2 columns", "mime_type": "text/markdown",
      "text": "df: pandas DataFrame, 3 rows × 2 columns\n\n| region | units |"}
NOTEBOOK = {"type": "resource_link", "uri": "file:///home/me/sales.ipynb", "name": "sales.ipynb",
            "mime_type": "application/x-ipynb+json"}


async def test_embedded_resources_and_links_reach_the_agent_and_the_transcript(manager, wait, workdir):
    session = await manager.start_session("demo", str(workdir))
    await manager.prompt(session["id"], "quick: what is in df?", [DF, NOTEBOOK])
    await wait.turn_end(session["id"])
    reply = wait.text(session["id"])
    assert "I received 2 attachments" in reply
    assert f"an embedded resource `{DF['uri']}` ({len(DF['text']):,} characters)" in reply
    assert f"a link to `{NOTEBOOK['uri']}`" in reply
    (message,) = [e for e in manager.events(session["id"]) if e["kind"] == "user_message"]
    assert message["data"] == {"text": "quick: what is in df?",
                               "context": [{**DF, "sent_as": "resource"},
                                           {**NOTEBOOK, "sent_as": "resource_link"}]}


async def test_an_agent_without_embedded_context_gets_text_blocks(manager, wait, workdir):
    session = await manager.start_session("demo-plain", str(workdir), prompt="quick: look", context=[DF, NOTEBOOK])
    await wait.turn_end(session["id"])
    reply = wait.text(session["id"])
    assert f"a text block `{DF['uri']}`" in reply and f"a link to `{NOTEBOOK['uri']}`" in reply
    (message,) = [e for e in manager.events(session["id"]) if e["kind"] == "user_message"]
    sent = message["data"]["context"]
    assert sent[0] == {**DF, "text": as_text(DF), "sent_as": "text"}  # exactly the text block sent
    assert as_text(DF).startswith(f"[{DF['title']} — {DF['uri']}]\n")
    assert sent[1]["sent_as"] == "resource_link"


@pytest.mark.parametrize("context, complaint", [
    ("df", "must be a list"),
    ([{"type": "image", "uri": "x", "name": "x"}], "of type 'resource' or 'resource_link'"),
    ([{**DF, "size": 3}], "unknown field(s): size"),
    ([{**DF, "uri": " "}], "context[0].uri must be a non-empty string"),
    ([{**DF, "text": None}], "context[0].text must be a non-empty string"),
    ([{**NOTEBOOK, "title": 3}], "context[0].title must be a string"),
    ([{**DF, "text": "x" * (MAX_BLOCK_CHARS + 1)}], "at most 262,144 are accepted per block"),
    ([{**DF, "text": "x" * MAX_BLOCK_CHARS}] * 5, "at most 1,048,576 are accepted"),
    ([NOTEBOOK] * (MAX_BLOCKS + 1), "at most 32 are accepted"),
])
async def test_bad_context_is_refused_and_nothing_is_sent(manager, workdir, context, complaint):
    session = await manager.start_session("demo", str(workdir))
    with pytest.raises(InvalidRequest) as refused:
        await manager.prompt(session["id"], "quick", context)
    assert complaint in str(refused.value)
    assert manager.get(session["id"])["state"] == "idle" and manager.get(session["id"])["turns"] == 0


async def test_context_without_a_prompt_is_refused(manager, workdir):
    with pytest.raises(InvalidRequest, match="context is sent with a prompt"):
        await manager.start_session("demo", str(workdir), context=[DF])
    assert manager.list_sessions() == []
