"""What a demo session can be told besides prompts: its mode, model and options, and what it
reports back (slash commands, token usage), in ACP's shapes.

By default a session offers both ACP session modes and session config options (as Claude
Code's adapter does); with ``--legacy-options`` it offers modes and the older model list
(``models`` + ``session/set_model``) instead of config options, as Gemini CLI does; with
``--no-options`` it offers neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from .wire import INVALID_PARAMS, RpcError

# (id, name, description). "auto" writes without asking: glue_jupyter lists it among the
# demo agent's bypass modes, so it is refused unless the permission policy is "allow".
MODES = (
    ("ask", "Ask", "Asks before writing a file"),
    ("plan", "Plan", "Reads and plans, never writes"),
    ("auto", "Auto", "Writes files without asking"),
)
# (id, name, description, context window in tokens)
MODELS = (
    ("demo-fast", "Demo Fast", "Short answers, a 128k-token context", 128_000),
    ("demo-thorough", "Demo Thorough", "The same answers, a 1M-token context", 1_000_000),
)
COMMANDS = (
    {"name": "recall", "description": "List what you said earlier in this session"},
    {"name": "write", "description": "Write a file in the session folder (asks first)",
     "input": {"hint": "file name"}},
    {"name": "quick", "description": "One short answer, no tools"},
    {"name": "switch", "description": "Let the agent change its own mode",
     "input": {"hint": "ask, plan or auto"}},
)
USD_PER_TOKEN = 0.000003
CHARS_PER_TOKEN = 4


def tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


@dataclass
class Settings:
    mode: str = "ask"
    model: str = "demo-fast"
    thoughts: bool = True
    cost: float = 0.0  # cumulative in this process, as real agents report it

    # -- what the session offers ------------------------------------------------------------

    def modes(self) -> dict:
        return {"currentModeId": self.mode,
                "availableModes": [{"id": i, "name": n, "description": d} for i, n, d in MODES]}

    def models(self) -> dict:
        return {"currentModelId": self.model,
                "availableModels": [{"modelId": i, "name": n, "description": d} for i, n, d, _ in MODELS]}

    def config_options(self) -> list[dict]:
        return [
            {"id": "mode", "name": "Mode", "description": "How freely the demo agent may act",
             "category": "mode", "type": "select", "currentValue": self.mode,
             "options": [{"value": i, "name": n, "description": d} for i, n, d in MODES]},
            {"id": "model", "name": "Model", "description": "Which (pretend) model answers",
             "category": "model", "type": "select", "currentValue": self.model,
             "options": [{"value": i, "name": n, "description": d} for i, n, d, _ in MODELS]},
            {"id": "thoughts", "name": "Show thoughts", "description": "Stream the agent's thoughts",
             "type": "boolean", "currentValue": self.thoughts},
        ]

    def session_fields(self, style: str) -> dict:
        """What session/new, session/load answer beside the session id, per offering style."""
        if style == "none":
            return {}
        if style == "legacy":
            return {"modes": self.modes(), "models": self.models()}
        return {"modes": self.modes(), "configOptions": self.config_options()}

    # -- changes ---------------------------------------------------------------------------

    def set_mode(self, mode_id: object) -> None:
        if mode_id not in {i for i, _, _ in MODES}:
            raise RpcError(INVALID_PARAMS, f"Invalid params: unknown mode {mode_id!r}", {"field": "modeId"})
        self.mode = mode_id

    def set_model(self, model_id: object) -> None:
        if model_id not in {i for i, _, _, _ in MODELS}:
            raise RpcError(INVALID_PARAMS, f"Invalid params: unknown model {model_id!r}", {"field": "modelId"})
        self.model = model_id

    def set_option(self, config_id: object, value: object) -> None:
        if config_id == "mode":
            self.set_mode(value)
        elif config_id == "model":
            self.set_model(value)
        elif config_id == "thoughts":
            if not isinstance(value, bool):
                raise RpcError(INVALID_PARAMS, "Invalid params: 'thoughts' takes true or false", {"field": "value"})
            self.thoughts = value
        else:
            raise RpcError(INVALID_PARAMS, f"Invalid params: unknown config option {config_id!r}",
                           {"field": "configId"})

    # -- what a turn reports -----------------------------------------------------------------

    def context_size(self) -> int:
        return next(size for i, _, _, size in MODELS if i == self.model)

    def turn_usage(self, prompt: str, reply: str, thought: str) -> dict:
        """ACP Usage of one turn (PromptResponse.usage); adds its cost to the session's."""
        used_in, used_out, used_thought = tokens(prompt), tokens(reply), tokens(thought)
        total = used_in + used_out + used_thought
        self.cost += total * USD_PER_TOKEN
        return {"inputTokens": used_in, "outputTokens": used_out, "thoughtTokens": used_thought,
                "totalTokens": total}

    def usage_update(self, history: list[dict]) -> dict:
        """ACP usage_update: the whole history is the context."""
        used = sum(tokens(entry.get("text") or "") for entry in history)
        return {"sessionUpdate": "usage_update", "used": used, "size": self.context_size(),
                "cost": {"amount": round(self.cost, 6), "currency": "USD"}}


def commands_update() -> dict:
    return {"sessionUpdate": "available_commands_update", "availableCommands": [dict(c) for c in COMMANDS]}
