"""`jupyter glue` for the agent's own session state: mode, model and options at start and later,
the list's mode and usage columns, adopting a session the agent began elsewhere."""

from __future__ import annotations

from pathlib import Path

from client_fixtures import call, glue_client, glue_env, glue_ref  # noqa: F401 - fixtures
from test_cli import glue, glue_json

from glue_jupyter.agents.demo.agent import HistoryStore, Session as DemoSession


async def test_mode_and_model_from_the_command_line(glue_env, glue_client, jp_root_dir):
    s = await glue_json("start", "--agent", "demo", "--cwd", str(jp_root_dir), "--mode", "plan",
                        "--model", "Demo Thorough", "--set", "thoughts=off", "quick")
    sid = s["id"]
    assert (s["mode"], s["model"]) == ("plan", "demo-thorough")
    await call(glue_client.wait, sid, "idle", timeout=30)

    code, out, _ = await glue("mode", sid[:8])
    assert code == 0
    assert "Mode (mode): Plan" in out and " * plan" in out
    assert "auto (Auto) — Writes files without asking  [refused by the permission policy]" in out

    code, out, err = await glue("mode", sid, "auto")
    assert code == 1 and "permission policy 'ask' forbids" in err
    code, out, err = await glue("model", sid, "nonsense")
    assert code == 1 and "choose one of: demo-fast (Demo Fast), demo-thorough (Demo Thorough)" in err
    assert (await glue_json("model", sid, "demo-fast"))["model"] == "demo-fast"
    code, out, _ = await glue("config", sid, "thoughts", "on")
    assert code == 0 and "thoughts set" in out
    code, out, _ = await glue("config", sid)
    assert "Show thoughts (thoughts): on" in out and "Model (model): Demo Fast" in out

    code, out, _ = await glue("list")
    header, row = out.splitlines()[:2]
    assert "MODE · MODEL" in header and "CONTEXT · COST" in header
    assert "Plan · Demo Fast" in row and "of 1M" in row   # the thorough model's window, until a turn reports again
    usage = (await glue_json("list"))[0]["usage"]
    assert usage["context_size"] == 1_000_000 and usage["output_tokens"] > 0

    code, out, err = await glue("start", "--agent", "demo", "--set", "broken")
    assert code == 1 and "--set takes OPTION=VALUE" in err


async def test_adopt_from_the_command_line(glue_env, glue_client, glue_config, jp_root_dir):
    work = jp_root_dir / "work"
    work.mkdir()
    HistoryStore(str(Path(glue_config["data_dir"]) / "demo-agent")).save(DemoSession(
        id="from-terminal", cwd=str(work.resolve()), history=[{"role": "user", "text": "quick: the plan"}]))

    code, out, err = await glue("adopt", "--agent", "demo", "--cwd", str(work))
    assert code == 0, err
    assert "from-terminal" in out and "quick: the plan" in out and "adopt one with" in out

    adopted = await glue_json("adopt", "--agent", "demo", "--cwd", str(work), "from-terminal", "recall")
    assert adopted["agent_session_id"] == "from-terminal" and adopted["title"] == "quick: the plan"
    session = await call(glue_client.wait, adopted["id"], "idle", timeout=30)
    assert session["resumed_via"] == "native"
    code, out, _ = await glue("show", adopted["id"])
    assert "User: quick: the plan" in out and "1. quick: the plan" in out

    code, out, err = await glue("adopt", "--agent", "demo", "--cwd", str(work), "from-terminal")
    assert code == 1 and "already glue session" in err
