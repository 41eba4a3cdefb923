"""`%glue` for the agent's own session state: options at start, `%glue mode|model|config`,
the list's mode and usage columns, `%glue adopt`."""

from __future__ import annotations

from pathlib import Path

from client_fixtures import call, glue_client, glue_env, glue_ref  # noqa: F401 - fixtures
from test_magics import Notebook, memory, nb  # noqa: F401 - fixtures

from glue_jupyter.agents.demo.agent import HistoryStore, Session as DemoSession


async def test_options_from_a_notebook(nb, glue_client, jp_root_dir):
    r = await nb.run(f"%glue start --agent demo --cwd {jp_root_dir} --mode plan --set thoughts=off,model=demo-thorough "
                     "--wait write notes.txt")
    assert r.ok, r.text
    sid = nb.magics.current
    s = await call(glue_client.get, sid)
    assert (s["mode"], s["model"]) == ("plan", "demo-thorough")
    assert not (jp_root_dir / "notes.txt").exists()

    r = await nb.run("%glue mode")
    assert r.ok and " * plan (Plan)" in r.stdout and "[refused by the permission policy]" in r.stdout
    r = await nb.run("%glue mode ask")
    assert r.ok and "Mode: Ask" in r.stdout, r.text
    r = await nb.run(f"%glue model {sid[:8]} Demo Fast")
    assert r.ok and "Model: Demo Fast" in r.stdout, r.text
    r = await nb.run("%glue mode auto")
    assert not r.ok and "permission policy 'ask' forbids" in r.text
    r = await nb.run("%glue config thoughts on")
    assert r.ok and "Show thoughts: on" in r.stdout, r.text
    r = await nb.run("%glue start --agent demo --set thoughts")
    assert not r.ok and "--set takes OPTION=VALUE" in r.text

    r = await nb.run("%glue list")
    html = r.outputs[0]["text/html"]
    assert "mode · model" in html and "Ask · Demo Fast" in html and "of 1M" in html

    await call(glue_client.stop, sid)
    r = await nb.run("%glue mode plan")
    assert r.ok and "(applies when it resumes)" in r.stdout
    r = await nb.run("%glue resume --wait quick")
    assert r.ok, r.text
    assert (await call(glue_client.get, sid))["mode"] == "plan"


async def test_adopt_from_a_notebook(nb, glue_client, glue_config, jp_root_dir):
    HistoryStore(str(Path(glue_config["data_dir"]) / "demo-agent")).save(DemoSession(
        id="begun-in-a-terminal", cwd=str(jp_root_dir.resolve()), history=[{"role": "user", "text": "quick: hello"}]))
    r = await nb.run(f"%glue adopt --agent demo --cwd {jp_root_dir}")
    assert r.ok and "begun-in-a-terminal" in r.text and "quick: hello" in r.text, r.text
    r = await nb.run(f"%glue adopt --agent demo --cwd {jp_root_dir} --mode plan begun-in-a-terminal recall")
    assert r.ok and "glue: adopted" in r.stdout, r.text
    s = await call(glue_client.wait, nb.magics.current, "idle", timeout=30)
    assert (s["agent_session_id"], s["mode"], s["title"]) == ("begun-in-a-terminal", "plan", "quick: hello")
    (jp_root_dir / "empty").mkdir()
    r = await nb.run(f"%glue adopt --agent demo --cwd {jp_root_dir / 'empty'}")
    assert r.ok and "demo has no sessions of its own in" in r.text
    r = await nb.run("%glue adopt begun-in-a-terminal")
    assert not r.ok and "needs --agent" in r.text
