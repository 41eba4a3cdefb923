"""The agents table: which agents we know, how to launch them, whether they are installed.

Launch commands are argument lists, never shell strings. Every agent gets a scrubbed
environment: what an agent needs to run and authenticate, never Jupyter's or JupyterHub's
tokens.

Everything glue knows about a particular agent lives here, read from the agents' own sources
(the ACP adapters of Claude Code and Codex, Gemini CLI): the session mode that makes it ask
before writing or running anything (so that glue's permission policy decides), the modes in
which it would not ask, how it signs in, and its quirks. The engine reads these fields and
has no special cases per agent.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path


def npm_package(program: str) -> dict | None:
    """{name, version} of the npm package a program on PATH comes from, or None.

    npm links a package's `bin` into PATH; its package.json is a few levels above the real
    file. Read without running anything, so it is cheap enough for every listing.
    """
    found = program if os.path.isabs(program) else shutil.which(program)
    if not found:
        return None
    folder = Path(found).resolve().parent
    for _ in range(4):
        try:
            meta = json.loads((folder / "package.json").read_text())
        except (OSError, ValueError):
            folder = folder.parent
            continue
        if isinstance(meta, dict) and meta.get("name") and meta.get("version"):
            return {"name": str(meta["name"]), "version": str(meta["version"])}
        folder = folder.parent
    return None


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.split("-")[0].split("."):
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers)


@dataclass(frozen=True)
class SignIn:
    """How an agent signs in: an API key variable (any one will do), or its own login."""

    env: tuple[str, ...] = ()
    login: str = ""  # what to run for the agent's own login, in words
    # Files a login leaves behind (~ is the agent's HOME): signed in when one exists.
    files: tuple[str, ...] = ()
    # ACP auth method id -> the variables it reads. When a session is refused with "auth
    # required" and one of them is set, glue authenticates with that method and retries.
    methods: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def method_for(self, offered: list[dict], env: dict[str, str]) -> str | None:
        """An auth method the agent offers whose API key variable is set in `env`."""
        for method in offered:
            method_id = method.get("id")
            names = self.methods.get(method_id) or tuple(
                v.get("name") for v in method.get("vars") or [] if isinstance(v, dict))
            if method_id and any(env.get(name) for name in names):
                return method_id
        return None

    def status(self, pushed: dict | None, offered: list[dict], env: dict[str, str]) -> dict:
        """{"signed_in": True|False|None, "detail"}: from what the agent itself says when it
        says it (`_auth/status_update`), else from the variables set and the files a login
        leaves. None: glue cannot tell."""
        method = self.method_for(offered, env)
        keys = [name for name in self.env if env.get(name)]
        if pushed and pushed.get("kind") not in (None, "none"):
            detail = " ".join(str(pushed.get(k)) for k in ("label", "detail") if pushed.get(k))
            return {"signed_in": True, "detail": detail or str(pushed.get("kind"))}
        if method is not None:
            variables = self.methods.get(method) or ()
            name = next((v for v in variables if env.get(v)), method)
            return {"signed_in": True, "detail": f"{name} is set (glue signs in with it)"}
        if keys:
            if pushed:  # it says it is not signed in although a key is set: believe it
                return {"signed_in": False, "detail": f"{pushed.get('label') or 'not signed in'}, "
                                                      f"although {keys[0]} is set"}
            return {"signed_in": True, "detail": f"{keys[0]} is set"}
        login = next((f for f in self.files if _expand(f, env).is_file()), None)
        if login is not None:
            return {"signed_in": True, "detail": f"signed in with its own login ({login})"}
        if pushed:
            return {"signed_in": False, "detail": pushed.get("label") or "not signed in"}
        if self.env or self.files:
            return {"signed_in": False, "detail": "no API key variable set and no login found"}
        return {"signed_in": None, "detail": "glue cannot tell"}

    def hint(self) -> str:
        parts = []
        if self.env:
            names = " or ".join(self.env)
            parts.append(f"set {names} in the environment the Jupyter server runs in")
        if self.login:
            parts.append(self.login)
        text = "; or ".join(parts)
        return text[:1].upper() + text[1:] + "." if text else ""


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
    # Other programs to launch when the first is not installed.
    alternatives: list[list[str]] = field(default_factory=list)
    # (version, argv): the launch command for installed versions older than `version`, read
    # from the npm package of the program (e.g. Gemini CLI before 0.34 knew only
    # --experimental-acp).
    older: tuple[tuple[str, list[str]], ...] = ()
    # The session mode (ACP session/set_mode) in which the agent asks before it writes a file
    # or runs a command, so that every decision reaches glue's permission policy. Set right
    # after session/new, load and resume.
    start_mode: str | None = None
    # Values of the agent's mode option in which it writes files or runs commands without
    # asking: they would bypass glue's permission policy, so they are refused unless the
    # policy is "allow" (engine/agent_session/options.py), and a session is not started in one.
    bypass_modes: list[str] = field(default_factory=list)
    sign_in: SignIn = field(default_factory=SignIn)
    # How to answer fs/read_text_file for a missing file: "error", the JSON-RPC error ACP
    # defines (-32002, resource not found), or "error-text", the same words as a bare string
    # for agents whose ACP library only recognises a missing file from the error's text.
    missing_file: str = "error"
    # Whether it streams its history after answering session/load (rather than before): glue
    # then waits for that replay to end before the session takes a prompt.
    replays_after_load: bool = False

    def resolve_argv(self) -> list[str] | None:
        """The launch command for what is installed, or None if nothing is."""
        for argv in [self.argv, *self.alternatives]:
            if argv and (os.path.isabs(argv[0]) and os.access(argv[0], os.X_OK) or shutil.which(argv[0])):
                if argv is self.argv and self.older:
                    return self._for_installed_version(argv)
                return argv
        return None

    def _for_installed_version(self, argv: list[str]) -> list[str]:
        package = npm_package(argv[0])
        if package is None:
            return argv
        installed = _version_tuple(package["version"])
        for version, older_argv in sorted(self.older, key=lambda item: _version_tuple(item[0])):
            if installed and installed < _version_tuple(version):
                return list(older_argv)
        return argv

    def describe(self) -> dict:
        argv = self.resolve_argv()
        return {
            "name": self.name,
            "title": self.title,
            "installed": argv is not None,
            "package": npm_package(argv[0]) if argv else None,
            "install_hint": self.install_hint,
            "argv": argv or self.argv,
            "sign_in_hint": self.sign_in.hint(),
            "modes": {"start": self.start_mode, "bypass": list(self.bypass_modes)},
        }


CLAUDE_INSTALL = ("npm install -g @agentclientprotocol/claude-agent-acp (it bundles Claude Code; "
                  "the older @zed-industries/claude-code-acp works too)")
CODEX_INSTALL = ("npm install -g @agentclientprotocol/codex-acp (it bundles Codex; the older "
                 "@zed-industries/codex-acp works too)")
GEMINI_INSTALL = "npm install -g @google/gemini-cli (0.34 or later, for gemini --acp)"
GOOSE_INSTALL = "install the goose CLI, see https://block.github.io/goose/docs/getting-started/installation"


def _expand(path: str, env: dict[str, str]) -> Path:
    """~ and $VARS as the agent would see them (its HOME, its CODEX_HOME...)."""
    home = env.get("HOME") or os.path.expanduser("~")
    if path.startswith("~"):
        path = home + path[1:]
    for name, value in env.items():
        path = path.replace(f"${name}", value)
    return Path(path)


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
            title="Claude Code",
            argv=["claude-agent-acp"],
            alternatives=[["claude-code-acp"]],
            install_hint=f"Install the Claude Code ACP adapter: {CLAUDE_INSTALL}.",
            # New sessions would start in "auto" (Claude decides alone) unless
            # ~/.claude/settings.json says otherwise; "default" asks for every edit and command.
            start_mode="default",
            bypass_modes=["auto", "acceptEdits", "bypassPermissions"],
            sign_in=SignIn(
                env=("ANTHROPIC_API_KEY",),
                login="run `claude-agent-acp --cli` once in a terminal and sign in with /login (a Claude subscription)",
                files=("~/.claude/.credentials.json",),
            ),
        ),
        "codex": AgentSpec(
            name="codex",
            title="Codex",
            argv=["codex-acp"],
            install_hint=f"Install a Codex ACP adapter: {CODEX_INSTALL}.",
            # The maintained adapter would hand approvals to a model reviewer ("agent") unless
            # told otherwise; "read-only" (both adapters) asks before every edit and before
            # any command that needs to write or reach the network.
            env={"INITIAL_AGENT_MODE": "read-only"},
            start_mode="read-only",
            bypass_modes=["workspace-write", "agent", "agent-full-access", "auto", "full-access"],
            sign_in=SignIn(
                env=("OPENAI_API_KEY", "CODEX_API_KEY"),
                login="run `codex-acp login` once in a terminal to sign in with ChatGPT (with the older adapter: `codex login`)",
                files=("$CODEX_HOME/auth.json", "~/.codex/auth.json"),
                methods={"api-key": ("CODEX_API_KEY", "OPENAI_API_KEY"),
                         "openai-api-key": ("OPENAI_API_KEY",), "codex-api-key": ("CODEX_API_KEY",)},
            ),
        ),
        "gemini": AgentSpec(
            name="gemini",
            title="Gemini CLI",
            argv=["gemini", "--acp"],
            older=(("0.34", ["gemini", "--experimental-acp"]),),
            install_hint=f"Install Gemini CLI: {GEMINI_INSTALL}.",
            start_mode="default",
            bypass_modes=["autoEdit", "yolo"],
            sign_in=SignIn(
                env=("GEMINI_API_KEY", "GOOGLE_API_KEY"),
                login="run `gemini` once in a terminal and choose Login with Google",
                files=("~/.gemini/oauth_creds.json",),
                methods={"gemini-api-key": ("GEMINI_API_KEY",)},
            ),
            # Its ACP library turns a JSON-RPC error object into "[object Object]" and then
            # fails to see a missing file (google-gemini/gemini-cli#9280): it cannot create files.
            missing_file="error-text",
            replays_after_load=True,
        ),
        "goose": AgentSpec(
            name="goose",
            title="Goose",
            argv=["goose", "acp"],
            install_hint=f"Install Goose: {GOOSE_INSTALL}.",
            # Goose acts alone ("auto") unless GOOSE_MODE says otherwise.
            env={"GOOSE_MODE": "approve"},
            start_mode="approve",
            bypass_modes=["auto", "smart_approve"],
            sign_in=SignIn(login="run `goose configure` once in a terminal to choose a provider and key",
                           files=("~/.config/goose/config.yaml",)),
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
            older=() if argv is not None else base.older,
            start_mode=entry.get("start_mode", base.start_mode),
            bypass_modes=list(bypass),
            sign_in=base.sign_in,
            missing_file=base.missing_file,
            replays_after_load=entry.get("replays_after_load", base.replays_after_load),
        )
    return table


# What an agent may inherit from our environment. Everything else (notably JUPYTER_TOKEN,
# JPY_*, JUPYTERHUB_*) stays behind.
INHERITED = {
    "HOME", "PATH", "SHELL", "TERM", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
    "PYTHONPATH", "VIRTUAL_ENV", "NODE_PATH", "NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE",
    "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
    "http_proxy", "https_proxy", "no_proxy", "all_proxy", "COLORTERM", "EDITOR", "VISUAL",
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
