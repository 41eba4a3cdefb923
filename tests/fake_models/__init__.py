"""Loopback fakes of the model APIs real agents call, so the real binaries run offline in tests.

One small HTTP server per vendor wire (Anthropic Messages, OpenAI Responses, Gemini
`streamGenerateContent`), all streaming (SSE). A reply is chosen from a directive in the user's
latest prompt, so a test says what the "model" does in the prompt it sends:

    [[write NAME]]   call the agent's file-writing tool to create NAME (a permission request)
    [[run COMMAND]]  call the agent's shell tool with COMMAND
    [[slow]]         stream a long reply slowly (interrupt and pause can be tried mid-stream)
    anything else    a short streamed reply

After a tool result the model answers "Done." and ends the turn. Every request is recorded, so
a test can check what the model was sent (e.g. the prior conversation after a resume).
"""

from .server import FakeModel, Recorded
from .anthropic import AnthropicFake
from .openai import OpenAIResponsesFake
from .gemini import GeminiFake

__all__ = ["FakeModel", "Recorded", "AnthropicFake", "OpenAIResponsesFake", "GeminiFake"]
