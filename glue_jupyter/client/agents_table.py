"""The agents table for people: `jupyter glue agents` and `%glue agents` say what the panel's
composer says — ready (and signed in how), not signed in (and what fixes it), not installed
(and what to install), or does not start (and why)."""

from __future__ import annotations

HEADERS = ("agent", "version", "status", "can", "details")


def status(agent: dict) -> tuple[str, str]:
    """(one word or two, what it means or what to do)."""
    if not agent.get("installed"):
        return "not installed", agent.get("install_hint") or ""
    check = agent.get("check")
    sign_in = agent.get("sign_in") or {}
    if check and not check.get("ok"):
        return "does not start", f"{check.get('error') or 'it did not answer'}. {agent.get('install_hint') or ''}".strip()
    if agent.get("signed_in") is False:
        return "not signed in", f"{sign_in.get('detail') or ''}. {sign_in.get('hint') or ''}".strip(". ")
    if agent.get("signed_in") is True:
        return "ready", sign_in.get("detail") or ""
    return "installed", sign_in.get("detail") or "not checked yet"


def abilities(agent: dict) -> str:
    """What the agent can do beyond prompts, in a few words."""
    caps = agent.get("capabilities") or {}
    words = []
    if caps.get("load") or caps.get("resume"):
        words.append("native resume")
    if caps.get("list"):
        words.append("adopt sessions")
    if caps.get("fork"):
        words.append("fork")
    prompt = caps.get("prompt") or []
    if "image" in prompt:
        words.append("images")
    if "embedded_context" in prompt:
        words.append("file context")
    return ", ".join(words) or "-"


def rows(agents: list[dict]) -> list[tuple[str, str, str, str, str]]:
    out = []
    for agent in agents:
        word, detail = status(agent)
        out.append((agent["name"], agent.get("version") or "-", word, abilities(agent), detail))
    return out
