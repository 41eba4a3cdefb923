"""The notebooks in notebooks/ run top to bottom in a real kernel against a real server.

The kernel finds the server through GLUE_JUPYTER_URL/TOKEN (inherited env), and its notebook
path through JPY_SESSION_NAME, as a kernel started by Jupyter would. A markdown cell tagged
``restart-kernel`` makes the test restart the kernel there, as the reader is asked to.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from client_fixtures import call, glue_client, glue_env, glue_ref  # noqa: F401 - fixtures
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient

from glue_jupyter.pytest_plugin import REPO_ROOT

NOTEBOOKS = Path(REPO_ROOT) / "notebooks"
ARTIFACTS = Path(REPO_ROOT) / "test-artifacts" / "notebooks"


def test_notebooks_are_committed_without_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"


async def run_notebook(name, workdir, monkeypatch, then=None) -> nbformat.NotebookNode:
    """Run the notebook (with the data files of notebooks/ beside it); `then(client, nb)` runs
    after the last cell, in the same kernel. Each cell's execute_reply is kept in its metadata
    (``glue_reply``): payloads such as set_next_input live there, not in the outputs."""
    path = workdir / name
    shutil.copy(NOTEBOOKS / name, path)
    for data in NOTEBOOKS.glob("*.csv"):
        shutil.copy(data, workdir / data.name)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
    def keep_reply(cell, cell_index, execute_reply):
        cell.metadata["glue_reply"] = execute_reply["content"]

    client.on_cell_executed = keep_reply
    async with client.async_setup_kernel():
        for index, cell in enumerate(nb.cells):
            if "restart-kernel" in cell.metadata.get("tags", []):
                await client.km.restart_kernel()
                await ensure_async(client.kc.wait_for_ready(timeout=60))
            if cell.cell_type == "code":
                await client.async_execute_cell(cell, index)
        if then is not None:
            await then(client, nb)
    # Kept for a human to open (outputs included): test-artifacts/notebooks/
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, ARTIFACTS / name)
    return nb


def outputs(nb, source_start):
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(source_start))
    return cell.outputs


def text_of(outs):
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outs)


async def test_quickstart(glue_env, glue_client, jp_root_dir, monkeypatch):
    nb = await run_notebook("quickstart.ipynb", jp_root_dir, monkeypatch)
    sessions = await call(glue_client.list_sessions)
    assert len(sessions) == 1
    sid = sessions[0]["id"]
    events = await call(glue_client.events, sid)
    kinds = [e["kind"] for e in events]
    stop_reasons = [e["data"]["stop_reason"] for e in events if e["kind"] == "turn_end"]
    assert "cancelled" in stop_reasons  # the interrupt
    assert [e["data"]["state"] for e in events if e["kind"] == "state"].count("paused") == 1
    assert "permission_answer" in kinds and (jp_root_dir / "notes.txt").exists()
    assert {e["data"]["via"] for e in events if e["kind"] == "resume"} >= {"thaw"}
    assert sessions[0]["resumed_via"] in ("native", "seeded")
    # the widget was shown, with a readable snapshot before it
    start = outputs(nb, "%glue start")
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in start)
    assert any("glue-snapshot" in o.get("data", {}).get("text/html", "") for o in start)
    assert "the agent asks: Write notes.txt" in text_of(outputs(nb, "from glue_jupyter.magics"))
    prompts = [e["data"]["text"] for e in events if e["kind"] == "user_message"]
    assert prompts == [
        "Have a look around this folder", "What did you find there?", "sleep, then tell me about it",
        "quick: still there after the pause", "write notes.txt", "recall what I asked you before",
    ]


async def test_resume_after_kernel_restart(glue_env, glue_client, jp_root_dir, monkeypatch):
    nb = await run_notebook("resume_after_restart.ipynb", jp_root_dir, monkeypatch)
    (session,) = await call(glue_client.list_sessions)
    assert session["state"] == "idle" and session["resumed_via"] in ("native", "seeded")
    last = text_of(nb.cells[-1].outputs)
    assert "idle · resumed via" in last
    events = await call(glue_client.events, session["id"])
    replies = "".join(e["data"]["text"] for e in events if e["kind"] == "agent_message_chunk" and e["turn"] == 2)
    assert "teal" in replies  # the agent recalls the first turn, across restart and stop


async def test_data_science_walkthrough(glue_env, glue_client, jp_root_dir, monkeypatch):
    """Load a CSV, ask about the DataFrame (pandas and NumPy variables), an exception then
    %glue fix, and the fixed code back into a cell (set_next_input), which then runs."""
    async def run_the_inserted_cell(client, nb):
        """What a front end does with set_next_input: a new cell below, which the reader runs."""
        insert = next(c for c in nb.cells if c.source == "%glue insert")
        (payload,) = [p for p in insert.metadata["glue_reply"]["payload"] if p["source"] == "set_next_input"]
        cell = nbformat.v4.new_code_cell(payload["text"])
        nb.cells.append(cell)
        await client.async_execute_cell(cell, len(nb.cells) - 1)

    nb = await run_notebook("data_science_walkthrough.ipynb", jp_root_dir, monkeypatch, then=run_the_inserted_cell)
    (session,) = await call(glue_client.list_sessions)
    assert session["notebook"] == str(jp_root_dir / "data_science_walkthrough.ipynb")
    assert session["state"] == "stopped"
    events = await call(glue_client.events, session["id"])
    messages = [e["data"] for e in events if e["kind"] == "user_message"]
    assert [m["text"] for m in messages][:2] == ["What stands out in @sales? Keep it short.",
                                                "quick: do these weights look sensible to you?"]
    asked, weighed, fix = messages
    assert [b["name"] for b in asked["context"]] == ["sales", "data_science_walkthrough.ipynb"]
    assert asked["context"][0]["title"] == "sales: pandas DataFrame, 24 rows × 4 columns"
    assert "| 0 | 2025-01-06 00:00:00 | north | 50 | 8.33 |" in asked["context"][0]["text"]
    assert [b["name"] for b in weighed["context"]][:2] == ["sales", "weights"]
    assert weighed["context"][1]["title"] == "weights: NumPy ndarray, shape (24), dtype float64"
    assert fix["text"].startswith("Fix the error that In[") and "KeyError: 'regoin'" in fix["text"]
    assert [b["mime_type"] for b in fix["context"][:2]] == ["text/x-python", "text/x-python-traceback"]
    replies = "".join(e["data"]["text"] for e in events if e["kind"] == "agent_message_chunk")
    assert "I received 2 attachments" in replies and "did you mean `region`?" in replies

    insert = next(c for c in nb.cells if c.source == "%glue insert")
    (payload,) = [p for p in insert.metadata["glue_reply"]["payload"] if p["source"] == "set_next_input"]
    fixed = 'units_by_region = sales.groupby("region")["units"].sum()\nunits_by_region'
    assert payload["text"] == fixed and payload["replace"] is False
    error = next(c for c in nb.cells if c.source.startswith('units_by_region = sales.groupby("regoin")'))
    assert error.outputs[0]["ename"] == "KeyError"
    ran = nb.cells[-1]
    assert ran.source == fixed and "north" in text_of(ran.outputs) and "Name: units" in text_of(ran.outputs)
