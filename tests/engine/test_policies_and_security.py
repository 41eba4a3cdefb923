"""Configuration that changes behaviour: permission policy, trusting loadSession, the agent's
environment, and file access confined to the session folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from glue_jupyter.agents.acp_driver import _Client
from glue_jupyter.agents.registry import build_table


@pytest.mark.parametrize("policy,written", [("allow", True), ("deny", False)])
async def test_permission_policy_answers_for_the_user(open_manager, make_waiter, workdir, policy, written):
    manager = await open_manager(permission_policy=policy)
    wait = make_waiter(manager)
    session = await manager.start_session("demo", str(workdir), prompt="write policy.md")
    await wait.turn_end(session["id"])
    answers = [e["data"] for e in manager.events(session["id"]) if e["kind"] == "permission_answer"]
    assert len(answers) == 1 and answers[0]["by"] == "policy" and answers[0]["outcome"] == "selected"
    assert (workdir / "policy.md").exists() == written
    assert manager.get(session["id"])["pending_permissions"] == 0


async def test_untrusted_load_session_is_seeded_instead(open_manager, make_config, make_waiter, workdir):
    demo = make_config().agents["demo"]
    manager = await open_manager(agents={"demo-untrusted": {**demo, "trust_load_session": False}})
    wait = make_waiter(manager)
    session = await manager.start_session("demo-untrusted", str(workdir), prompt="quick: remember fig")
    await wait.turn_end(session["id"])
    await manager.stop(session["id"])
    resumed = await manager.resume(session["id"], prompt="recall")
    assert resumed["resumed_via"] == "seeded"
    await wait.event(session["id"], lambda e: e["kind"] == "turn_end" and e["turn"] == 2)
    assert "fig" in wait.text(session["id"], turn=2)


async def test_agent_environment_is_scrubbed_of_jupyter_secrets(manager, workdir, monkeypatch):
    monkeypatch.setenv("JUPYTER_TOKEN", "secret-jupyter-token")
    monkeypatch.setenv("JPY_API_TOKEN", "secret-hub-token")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "secret-hub-token-2")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "agent-needs-this")
    session = await manager.start_session("demo", str(workdir))
    pid = next(e["data"]["pid"] for e in manager.events(session["id"]) if e["kind"] == "process_start")
    environ = dict(
        item.split("=", 1) for item in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in item
    )
    assert "JUPYTER_TOKEN" not in environ and "JPY_API_TOKEN" not in environ
    assert "JUPYTERHUB_API_TOKEN" not in environ
    assert environ["ANTHROPIC_API_KEY"] == "agent-needs-this"
    transcript = str(manager.events(session["id"]))
    assert "secret" not in transcript


async def test_file_access_is_confined_to_the_session_folder(workdir, tmp_path):
    from acp import RequestError

    written = []

    class Sink:
        def on_file_written(self, path):
            written.append(path)

    client = _Client(workdir, Sink())
    await client.write_text_file("s", "sub/notes.md", "hello")
    assert (workdir / "sub" / "notes.md").read_text() == "hello"
    assert (await client.read_text_file("s", "sub/notes.md")).content == "hello"
    (tmp_path / "outside.txt").write_text("private")
    for path in ("../outside.txt", str(tmp_path / "outside.txt"), "sub/../../outside.txt"):
        with pytest.raises(RequestError):
            await client.read_text_file("s", path)
        with pytest.raises(RequestError):
            await client.write_text_file("s", path, "overwritten")
    assert (tmp_path / "outside.txt").read_text() == "private"
    assert written == [str(workdir / "sub" / "notes.md")]


def test_agent_configuration_is_checked(tmp_path):
    with pytest.raises(ValueError, match="list of strings"):
        build_table(tmp_path, {"mine": {"argv": "my-agent --acp"}})
    with pytest.raises(ValueError, match="needs an 'argv'"):
        build_table(tmp_path, {"mine": {"title": "no command"}})
    table = build_table(tmp_path, {"mine": {"argv": ["my-agent", "--acp"], "env": {"K": "v"}}})
    assert table["mine"].argv == ["my-agent", "--acp"] and table["mine"].env == {"K": "v"}
    assert table["mine"].describe()["installed"] is False




async def test_a_missing_file_is_answered_so_that_every_agent_sees_it_missing(workdir):
    """ACP's "resource not found" error, and for an agent whose ACP library only reads an
    error's text (Gemini CLI: google-gemini/gemini-cli#9280), the same words as a bare string."""
    from acp import RequestError

    from glue_jupyter.agents.acp_driver import MissingFileAsText

    class Sink:
        def on_file_written(self, path):
            pass

    with pytest.raises(RequestError) as caught:
        await _Client(workdir, Sink()).read_text_file("s", "new.md")
    error = caught.value.to_error_obj()
    assert error["code"] == -32002 and error["message"].startswith("Resource not found")
    assert error["data"] == {"uri": str(workdir / "new.md")}
    with pytest.raises(MissingFileAsText) as caught:
        await _Client(workdir, Sink(), missing_file="error-text").read_text_file("s", "new.md")
    assert caught.value.to_error_obj() == f"Resource not found: {workdir / 'new.md'}"


@pytest.mark.parametrize("version,flag", [("0.33.2", "--experimental-acp"), ("0.34.0", "--acp"), ("0.61.0", "--acp")])
def test_gemini_cli_is_launched_with_the_flag_its_version_knows(tmp_path, monkeypatch, version, flag):
    package = tmp_path / "lib" / "node_modules" / "@google" / "gemini-cli"
    (package / "bundle").mkdir(parents=True)
    (package / "package.json").write_text(f'{{"name": "@google/gemini-cli", "version": "{version}"}}')
    program = package / "bundle" / "gemini.js"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "gemini").symlink_to(program)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    gemini = build_table(tmp_path, {})["gemini"]
    assert gemini.resolve_argv() == ["gemini", flag]
    assert gemini.describe()["package"] == {"name": "@google/gemini-cli", "version": version}
