"""The kernel as context, from the magics against a real server and demo agent: variables
named with --with and @name, the last error with %glue fix, the notebook and its cells, and
%glue show choosing among a notebook's sessions. Cells run in a worker thread (see test_magics)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from client_fixtures import call, glue_client, glue_env, glue_ref  # noqa: F401 - fixtures
from test_magics import Notebook

from glue_jupyter.magics import NotebookMemory


@pytest.fixture
def nb(glue_client, jp_root_dir, monkeypatch):
    notebook = jp_root_dir / "sales.ipynb"
    notebook.write_text(json.dumps({"cells": [
        {"id": "c1", "cell_type": "markdown", "source": "# Sales", "metadata": {}},
        {"id": "c2", "cell_type": "code", "source": ["import pandas as pd\n", "sales = pd.read_csv('sales.csv')"],
         "metadata": {}, "outputs": [], "execution_count": None},
        {"id": "c3", "cell_type": "code", "source": "sales.head()", "metadata": {}, "outputs": [],
         "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    monkeypatch.chdir(jp_root_dir)  # a notebook's kernel runs in its folder, under the server's root
    book = Notebook(glue_client, memory=NotebookMemory(str(jp_root_dir / "memory.json")))
    book.shell.events.register("post_run_cell", book.magics.errors)
    book.path = notebook
    yield book
    book.shell.events.unregister("post_run_cell", book.magics.errors)


async def user_messages(client, sid):
    return [e["data"] for e in await call(client.events, sid) if e["kind"] == "user_message"]


async def reply_of(client, sid, turn):
    from glue_jupyter.client.stream import wait_for_session

    await call(wait_for_session, client, sid, lambda s: s["state"] == "idle" and s["turns"] >= turn, timeout=30)
    events = await call(client.events, sid)
    return "".join(e["data"]["text"] for e in events if e["kind"] == "agent_message_chunk" and e["turn"] == turn)


async def test_variables_named_with_and_mentioned_go_as_described_context(nb, glue_client):
    nb.shell.user_ns.update(sales=pd.DataFrame({"region": ["north", "south", "east"], "units": [3, 5, 8]}),
                            weights=np.arange(12, dtype=float).reshape(3, 4), secret="never sent")
    r = await nb.run("%%glue --agent demo --with sales\nquick: what do you make of @weights? (mail me@example.com)")
    assert r.ok, r.text
    assert "glue: attached sales, weights, sales.ipynb" in r.stdout
    sid = nb.magics.current
    reply = await reply_of(glue_client, sid, 1)
    assert "I received 3 attachments" in reply
    (message,) = await user_messages(glue_client, sid)
    names = [block["name"] for block in message["context"]]
    assert names == ["sales", "weights", "sales.ipynb"]  # and nothing else of the kernel
    sales, weights, link = message["context"]
    assert sales["sent_as"] == "resource" and sales["uri"] == "jupyter://kernel/variables/sales"
    assert sales["title"] == "sales: pandas DataFrame, 3 rows × 2 columns"
    assert "| region | str | 0 |" in sales["text"] or "| region | object | 0 |" in sales["text"]
    assert "| 2 | east | 8 |" in sales["text"]                     # the head
    assert "| units | 3 | 5.33333 |" in sales["text"]              # statistics
    assert weights["title"] == "weights: NumPy ndarray, shape (3×4), dtype float64"
    assert "min 0, max 11, mean 5.5" in weights["text"]
    assert link == {"type": "resource_link", "uri": f"file://{nb.path}", "name": "sales.ipynb",
                    "title": "The notebook sales.ipynb", "mime_type": "application/x-ipynb+json",
                    "sent_as": "resource_link"}
    assert "never sent" not in json.dumps(message)
    session = await call(glue_client.get, sid)
    assert session["notebook"] == str(nb.path)


async def test_an_unknown_variable_sends_nothing(nb, glue_client):
    r = await nb.run("%%glue --agent demo --with sales,nope_not_here\nquick")
    assert not r.ok and "glue: not defined in this kernel: nope_not_here (nothing was sent)" in r.text
    assert "Traceback" not in r.text
    assert await call(glue_client.list_sessions) == []
    r = await nb.run("%%glue --agent demo --with 'a b,c'\nquick")
    assert not r.ok and "not defined in this kernel: a, b, c" in r.text
    r = await nb.run("%%glue --agent demo --with 3x\nquick")
    assert not r.ok and "not a name: 3x" in r.text


async def test_fix_sends_the_traceback_and_the_cell_and_gets_the_cell_back_fixed(nb, glue_client):
    r = await nb.run("%glue fix")
    assert not r.ok and "no error to fix" in r.text
    nb.shell.user_ns["sales"] = pd.DataFrame({"region": ["north", "south"], "units": [3, 5]})
    failing = 'totals = sales.groupby("regoin")["units"].sum()\ntotals'
    r = await nb.run(failing)
    assert not r.ok
    r = await nb.run("%glue fix --agent demo --with sales")
    assert r.ok, r.text
    sid = nb.magics.current
    reply = await reply_of(glue_client, sid, 1)
    (message,) = await user_messages(glue_client, sid)
    assert message["text"].startswith("Fix the error that In[") and "KeyError: 'regoin'" in message["text"]
    cell, trace, sales, link = message["context"]
    assert cell["text"] == failing and cell["mime_type"] == "text/x-python"
    assert trace["mime_type"] == "text/x-python-traceback" and trace["text"].rstrip().endswith("KeyError: 'regoin'")
    assert "Traceback (most recent call last)" in trace["text"] and "\x1b[" not in trace["text"]
    assert [sales["name"], link["name"]] == ["sales", "sales.ipynb"]
    assert 'did you mean `region`?' in reply
    assert 'totals = sales.groupby("region")["units"].sum()' in reply

    # ... and the fixed cell back into the notebook, as a new cell below (set_next_input).
    r = await nb.run("%glue insert")
    assert r.ok and "glue: code block 1 of 1 is in a new cell below" in r.stdout, r.text
    assert nb.shell.rl_next_input == failing.replace("regoin", "region")
    r = await nb.run("%glue insert 2")
    assert not r.ok and "has 1 code block(s), not a block 2" in r.text
    await nb.run("%%glue\nquick")
    await reply_of(glue_client, sid, 2)
    r = await nb.run("%glue insert")
    assert not r.ok and "the agent's last reply has no code block" in r.text


async def test_cells_from_the_saved_notebook_or_from_the_kernel_history(nb, glue_client):
    await call(nb.shell.run_cell, "x = 1", store_history=True)  # as a kernel runs cells
    count = nb.shell.execution_count - 1
    r = await nb.run("%%glue --agent demo --cells\nquick: have a look")
    assert r.ok, r.text
    sid = nb.magics.current
    await reply_of(glue_client, sid, 1)
    r = await nb.run(f"%%glue --cells {count}\nquick: and that one")
    assert r.ok, r.text
    await reply_of(glue_client, sid, 2)
    first, second = await user_messages(glue_client, sid)
    saved = first["context"][-1]
    assert saved["uri"] == f"file://{nb.path}#cells"
    assert saved["text"] == "# %% cell 2\nimport pandas as pd\nsales = pd.read_csv('sales.csv')\n\n# %% cell 3\nsales.head()\n"
    assert second["context"][-1] == {"type": "resource", "uri": f"jupyter://kernel/cells/{count}",
                                     "name": f"In[{count}]", "title": f"The cell run as In[{count}]",
                                     "mime_type": "text/x-python", "text": "x = 1", "sent_as": "resource"}
    r = await nb.run("%%glue --cells 99999\nquick")
    assert not r.ok and "this kernel has not run In[99999]" in r.text
    r = await nb.run("%%glue --no-notebook\nquick: no link this time")
    assert r.ok
    await reply_of(glue_client, sid, 3)
    assert "context" not in (await user_messages(glue_client, sid))[-1]


async def test_a_slow_repr_is_cut_short(nb, glue_client):
    nb.shell.run_cell("class Slow:\n    def __repr__(self):\n        import time; time.sleep(30); return 'late'\n"
                      "slow = Slow()")
    r = await nb.run("%%glue --agent demo --with slow\nquick")
    assert r.ok, r.text
    (message,) = await user_messages(glue_client, nb.magics.current)
    assert "its repr took longer than 0.1 s" in message["context"][0]["text"]


async def test_show_without_an_id_offers_the_notebooks_sessions(nb, glue_client, jp_root_dir):
    r = await nb.run("%glue show")
    assert not r.ok and "no current session in this notebook" in r.text
    first = await call(glue_client.start, "demo", str(jp_root_dir), notebook=str(nb.path))
    second = await call(glue_client.start, "demo", str(jp_root_dir), notebook=str(nb.path))
    await call(glue_client.start, "demo", str(jp_root_dir), notebook=str(jp_root_dir / "other.ipynb"))
    r = await nb.run("%glue show")
    assert r.ok and "this notebook has 2 sessions" in r.stdout
    assert first["id"][:8] in r.text and second["id"][:8] in r.text
    nb.magics.current = first["id"]
    r = await nb.run("%glue show")
    assert r.ok and f"1 other session ({second['id'][:8]})" in r.stdout
    listed = await call(glue_client.list_sessions, notebook=str(nb.path))
    assert {s["id"] for s in listed} == {first["id"], second["id"]}
