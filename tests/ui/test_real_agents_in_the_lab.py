"""Real agents from the side panel, as a new user with a key would run them: Claude Code, Codex
and Gemini CLI, each offline against its loopback fake model, started from the panel's
new-session form, asking before they write (glue's default policy `ask`), allowed with a click.

The agents are installed by `./dev test` (tests/real_agents/install.py); missing, this module
skips with the reason, except in CI (`CI=true`), where that fails the run.
"""

from __future__ import annotations

import contextlib
import os

import pytest
from playwright.sync_api import Page, expect

from fake_models.server import FILE_CONTENT
from real_agents.agents import REAL_AGENTS
from real_agents.install import InstallError, install, program

from conftest import start_lab, stop_lab
from test_panel import show_panel

pytestmark = pytest.mark.timeout(300)

# One lab holds one entry per agent name; the Zed Codex adapter (also "codex") is covered by
# tests/real_agents without the browser.
IN_THE_LAB = [real for real in REAL_AGENTS if real.key in ("claude", "codex", "gemini")]
AGENT_WAIT_MS = 90_000  # a real agent's start (Node, its own checks) on a loaded machine


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    try:
        installed = install()
    except InstallError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the real agents could not be installed: {exc}")
        pytest.skip(f"the real agents are not installed ({exc}); ./dev test installs them")
    tmp = tmp_path_factory.mktemp("lab-real-agents")
    with contextlib.ExitStack() as fakes:
        agents = {}
        for real in IN_THE_LAB:
            fake = fakes.enter_context(real.fake())
            home = tmp / f"home-{real.key}"
            home.mkdir()
            agents[real.agent] = {"argv": [str(program(real.key, installed)), *real.args],
                                  "env": real.prepare(home, fake, {}, "fake")}
        server = start_lab(tmp, extra_config=(f"c.GlueApp.agents.update({agents!r})\n"
                                              "c.GlueApp.start_timeout = 60.0\n"))
        try:
            yield server
        finally:
            stop_lab(server)


@pytest.mark.parametrize("real", IN_THE_LAB, ids=str)
def test_a_real_agent_from_the_panel_asks_before_it_writes(real, page: Page, lab_server, open_lab,
                                                           shoot_light_dark_phone):
    target = lab_server.root_dir / f"from-the-lab-{real.key}.txt"
    open_lab(page)
    panel = show_panel(page)
    panel.locator('.jp-GlueSessionsPanel-toolbar [data-command="glue:new-session"]').click()  # "New"
    form = panel.locator("form.jp-GlueNew")
    form.locator("select.jp-GlueNew-agent").select_option(real.agent)
    # The form says the agent can work before the user starts it.
    expect(form.locator(".jp-GlueNew-hint")).to_contain_text("signed in:", timeout=AGENT_WAIT_MS)
    form.locator("textarea.jp-GlueNew-prompt").fill(f"[[write {target.name}]]")
    form.get_by_role("button", name="Start").click()
    view = page.locator("#jp-main-dock-panel .jp-GlueSessionView:visible")
    expect(view).to_have_count(1)

    request = view.locator(".jp-GlueItem-permission")
    allow = request.locator('button[data-kind="allow_once"]')  # named in the agent's words
    expect(allow).to_be_enabled(timeout=AGENT_WAIT_MS)
    expect(request).to_contain_text(target.name)  # the user sees what will be written
    assert not target.exists()  # the agent's own mode did not write before the user allowed it
    if real.key == "claude":
        shoot_light_dark_phone(page, view, "real-agent-permission")
    allow.click()
    expect(request).to_contain_text("Answered:")
    expect(request.locator("button[data-kind]")).to_have_count(0)  # no option left to click
    expect(view.locator(".jp-GlueItem-turn_end")).to_contain_text(target.name, timeout=AGENT_WAIT_MS)
    assert target.read_text() == FILE_CONTENT
    lab_server.stop_all()
