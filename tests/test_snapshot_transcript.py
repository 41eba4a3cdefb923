"""The HTML snapshot a notebook keeps of a session reads like the live view: each turn's plan once,
as it last stood, and every turn's tool calls (a tool call's own `kind` hid them all), even when an
agent reuses tool ids across turns (issue 10, defects 1 and 6, in the snapshot)."""

from __future__ import annotations

import re

from glue_jupyter.client.render import snapshot_html

SESSION = {"id": "0123456789abcdef", "title": "Look", "agent": "demo", "cwd": "/tmp", "state": "idle"}


async def test_each_turns_plan_once_as_it_ended(glue_api):
    sid = (await glue_api.start(prompt="look around"))["id"]
    await glue_api.wait_for(sid, lambda s: s["state"] == "idle" and s["turns"] == 1)
    await glue_api.control(sid, "prompt", text="look around again")
    session = await glue_api.wait_for(sid, lambda s: s["state"] == "idle" and s["turns"] == 2)
    events = await glue_api.events(sid)
    assert sum(e["kind"] == "plan" for e in events) > 2  # the agent updated its plan as it went

    html = snapshot_html(session, events)
    plans = re.findall(r"<ul[^>]*>(.*?)</ul>", html)
    assert len(plans) == 2, html  # one per turn
    assert all("☐" not in p and p.count("☑") == 3 for p in plans)  # as it stood at the turn's end
    assert html.count("🔧") == 4  # each turn's two tool calls


def event(seq: int, in_turn: int, event_kind: str, **data) -> dict:
    return {"seq": seq, "turn": in_turn, "kind": event_kind, "ts": 1_700_000_000 + seq, "data": data}


def test_tool_calls_of_every_turn_when_ids_repeat():
    events = []
    for turn in (1, 2, 3):
        base = turn * 10
        events += [
            event(base, turn, "user_message", text=f"turn {turn}"),
            event(base + 1, turn, "tool_call", tool_call_id="call_1", title=f"Read in turn {turn}", kind="read",
                  status="pending"),
            event(base + 2, turn, "tool_call_update", tool_call_id="call_1", status="completed"),
            event(base + 3, turn, "turn_end", turn=turn, stop_reason="end_turn"),
        ]
    html = snapshot_html(SESSION, events)
    for turn in (1, 2, 3):
        assert f"Read in turn {turn} <i>(completed)</i>" in html
    # Each card stays in its own turn, before that turn's end.
    assert html.index("Read in turn 2") > html.index("turn 1 ended") and html.index("Read in turn 2") < html.index(
        "turn 2 ended")
