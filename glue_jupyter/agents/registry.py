"""The agents table: which agents we know, how to launch them, whether they are installed.

Launch commands are argument lists, never shell strings. Every agent gets a scrubbed
environment: what an agent needs to run and authenticate, never Jupyter's or JupyterHub's
tokens.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class AgentSpec:
    name: str
    title: str
    argv: list[str]
    install_hint: str = ""
    env: dict[str, str] = field(default_factory=dict)
    # Whether to believe the agent's `loadSession` capability (some adapters advertise it but
    # cannot load sessions made by another process).
    trust_load_session: bool = True
    alternatives: list[list[str]] = field(default_factory=list)
    # Values of the agent's mode option in which it writes files or runs commands without
    # asking: they would bypass glue's permission policy, so they are refused unless the
    # policy is "allow" (engine/agent_session/options.py).
    bypass_modes: list[str] = field(default_factory=list)

    def resolve_argv(self) -> list[str] | None:
        """The first launch command whose program is on PATH, or None if none is."""
        for argv in [self.argv, *self.alternatives]:
            if argv and (os.path.isabs(argv[0]) and os.access(argv[0], os.X_OK) or shutil.which(argv[0])):
                return argv
        return None

    def describe(self) -> dict:
        argv = self.resolve_argv()
        return {
            "name": self.name,
            "title": self.title,
            "installed": argv is not None,
            "install_hint": self.install_hint,
            "argv": argv or self.argv,
        }


def builtin_agents(data_dir: Path) -> dict[str, AgentSpec]:
    demo_state = str(Path(data_dir) / "demo-agent")
    return {
        "demo": AgentSpec(
            name="demo",
            title="Demo agent (built in, no model, no network)",
            argv=[sys.executable, "-m", "glue_jupyter.agents.demo", "--state-dir", demo_state],
            bypass_modes=["auto"],
        ),
        "claude": AgentSpec(
            name="claude",
            title="Claude Code (ACP adapter)",
            argv=["claude-agent-acp"],
            alternatives=[["claude-code-acp"]],
            install_hint="Install the adapter: npm install -g @agentclientprotocol/claude-agent-acp "
            "(or the older @zed-industries/claude-code-acp), and sign in to Claude Code.",
            # auto: a model classifier answers permission prompts; acceptEdits: edits are not asked.
            bypass_modes=["auto", "acceptEdits", "bypassPermissions"],
        ),
        "codex": AgentSpec(
            name="codex",
            title="Codex (codex-acp)",
            argv=["codex-acp"],
            install_hint="Install codex-acp (npm install -g @zed-industries/codex-acp) and sign in to Codex.",
            # Zed's adapter: auto, full-access; the newer @agentclientprotocol one: agent, agent-full-access.
            bypass_modes=["auto", "full-access", "agent", "agent-full-access"],
        ),
        "gemini": AgentSpec(
            name="gemini",
            title="Gemini CLI",
            argv=["gemini", "--acp"],
            alternatives=[["gemini", "--experimental-acp"]],
            install_hint="Install Gemini CLI: npm install -g @google/gemini-cli, then sign in.",
            bypass_modes=["autoEdit", "yolo"],
        ),
        "goose": AgentSpec(
            name="goose",
            title="Goose",
            argv=["goose", "acp"],
            install_hint="Install Goose: see https://block.github.io/goose/ (the goose CLI).",
            bypass_modes=["auto", "smart_approve"],
        ),
    }


def build_table(data_dir: Path, configured: dict[str, dict]) -> dict[str, AgentSpec]:
    """Built-in agents, overridden or extended by configuration entries."""
    table = builtin_agents(data_dir)
    for name, entry in (configured or {}).items():
        entry = dict(entry)
        base = table.get(name)
        if base is None:
            if not entry.get("argv"):
                raise ValueError(f"agent {name!r} needs an 'argv' list in its configuration")
            base = AgentSpec(name=name, title=entry.get("title", name), argv=list(entry["argv"]))
        argv = entry.get("argv")
        if argv is not None and (not isinstance(argv, list) or not all(isinstance(a, str) for a in argv)):
            raise ValueError(f"agent {name!r}: 'argv' must be a list of strings, not a shell string")
        bypass = entry.get("bypass_modes", base.bypass_modes)
        if not isinstance(bypass, list) or not all(isinstance(m, str) for m in bypass):
            raise ValueError(f"agent {name!r}: 'bypass_modes' must be a list of mode ids")
        table[name] = AgentSpec(
            name=name,
            title=entry.get("title", base.title),
            argv=list(argv) if argv is not None else base.argv,
            install_hint=entry.get("install_hint", base.install_hint),
            env={**base.env, **entry.get("env", {})},
            trust_load_session=entry.get("trust_load_session", base.trust_load_session),
            alternatives=[] if argv is not None else base.alternatives,
            bypass_modes=list(bypass),
        )
    return table


# What an agent may inherit from our environment. Everything else (notably JUPYTER_TOKEN,
# JPY_*, JUPYTERHUB_*) stays behind.
INHERITED = {
    "HOME", "PATH", "SHELL", "TERM", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
    "PYTHONPATH", "VIRTUAL_ENV", "NODE_PATH", "NODE_OPTIONS", "SSL_CERT_FILE", "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
    "no_proxy", "COLORTERM", "EDITOR", "VISUAL",
}
INHERITED_PREFIXES = (
    "LC_", "XDG_", "ANTHROPIC_", "CLAUDE_", "OPENAI_", "CODEX_", "GEMINI_", "GOOGLE_", "GOOSE_",
    "AWS_", "AZURE_", "VERTEX_", "NPM_CONFIG_", "OPENROUTER_",
)
NEVER = ("JUPYTER", "JPY_", "JUPYTERHUB")


def scrubbed_environment(extra: dict[str, str] | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    source = os.environ if base is None else base
    env = {
        key: value
        for key, value in source.items()
        if (key in INHERITED or key.startswith(INHERITED_PREFIXES))
        and not key.upper().startswith(NEVER)
        and not value.startswith("()")  # exported shell functions
    }
    env.update(extra or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
