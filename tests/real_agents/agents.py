"""The real agents the suite drives, and how each is pointed at its loopback fake model.

A `RealAgent` knows the environment (a private HOME, the fake's URL, a dummy key) and the files
its CLI reads there. Used by the tests (conftest.py) and by benchmarks/real_agents.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from fake_models import AnthropicFake, GeminiFake, OpenAIResponsesFake
from fake_models.server import FakeModel


@dataclass
class RealAgent:
    """One real agent binary and how to run it offline against its fake."""

    key: str                 # tests/real_agents/install.py PINS key
    agent: str               # the glue registry entry it runs as
    fake: type[FakeModel]
    # (home, fake, own settings, account) -> env. account: "fake" (signed in, talking to the
    # fake), "none" (signed out), "key" (a key for the vendor's own service: only for checks
    # and sign-in, never prompted).
    prepare: Callable[[Path, FakeModel, dict, str], dict[str, str]]
    # The agent's own settings that would make it write or run without asking (the default
    # of Claude's and Codex's newer adapter already does); glue must override them.
    bypass_settings: dict = field(default_factory=dict)
    args: list[str] = field(default_factory=list)  # after the program

    def __str__(self) -> str:
        return self.key


def _common_env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"), "XDG_STATE_HOME": str(home / ".local/state"),
        # Anything that tries the internet hits a closed local port instead.
        "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    }


def _claude(home: Path, fake: FakeModel, own: dict, account: str) -> dict[str, str]:
    own = {k: v for k, v in own.items() if k != "trusted"}
    if own:
        (home / ".claude").mkdir(parents=True, exist_ok=True)
        (home / ".claude" / "settings.json").write_text(json.dumps(own))
    return {**_common_env(home), "ANTHROPIC_BASE_URL": fake.url,
            "ANTHROPIC_API_KEY": "" if account == "none" else "sk-ant-fake",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1"}


def _codex(home: Path, fake: FakeModel, own: dict, account: str) -> dict[str, str]:
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    settings = "".join(f"{key} = {json.dumps(value)}\n" for key, value in own.get("config", {}).items())
    provider = ('model_provider = "fake"\n[model_providers.fake]\nname = "fake"\n'
                f'base_url = "{fake.url}/v1"\nwire_api = "responses"\nenv_key = "OPENAI_API_KEY"\n')
    (codex_home / "config.toml").write_text(
        settings + 'model = "gpt-5.5"\ncheck_for_update_on_startup = false\n'
        + (provider if account == "fake" else "")
        + "".join(f'[projects."{p}"]\ntrust_level = "trusted"\n' for p in own.get("trusted", [])))
    return {**_common_env(home), "CODEX_HOME": str(codex_home), "CODEX_API_KEY": "",
            "OPENAI_API_KEY": "" if account == "none" else "sk-fake", **own.get("env", {})}


def _gemini(home: Path, fake: FakeModel, own: dict, account: str) -> dict[str, str]:
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    own = dict(own)
    # Gemini CLI ignores a bolder default approval mode in a folder it does not trust.
    trusted = own.pop("trusted", [])
    (home / ".gemini" / "trustedFolders.json").write_text(json.dumps({p: "TRUST_FOLDER" for p in trusted}))
    settings = {"security": {"auth": {"selectedType": "gemini-api-key"}},
                "privacy": {"usageStatisticsEnabled": False}, "telemetry": {"enabled": False}, **own}
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings))
    return {**_common_env(home), "GOOGLE_GEMINI_BASE_URL": fake.url, "GOOGLE_API_KEY": "",
            "GEMINI_API_KEY": "" if account == "none" else "fake-key", "GOOGLE_GENAI_USE_VERTEXAI": "false"}


REAL_AGENTS = [
    RealAgent("claude", "claude", AnthropicFake, _claude,
              bypass_settings={"permissions": {"defaultMode": "acceptEdits"}}),
    RealAgent("codex", "codex", OpenAIResponsesFake, _codex,
              bypass_settings={"env": {"INITIAL_AGENT_MODE": "agent-full-access"}}),
    RealAgent("codex-zed", "codex", OpenAIResponsesFake, _codex,
              bypass_settings={"config": {"approval_policy": "never", "sandbox_mode": "danger-full-access"}}),
    RealAgent("gemini", "gemini", GeminiFake, _gemini, args=["--acp"],
              bypass_settings={"general": {"defaultApprovalMode": "auto_edit"}}),
]
