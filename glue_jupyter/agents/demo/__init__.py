"""The built-in demo agent: a real ACP agent process with no model and no network.

`python -m glue_jupyter.agents.demo` runs it (see agent.py for its flags and docs/contract.md
for what each prompt keyword does). Stdlib only: it must answer `initialize` within tens of
milliseconds, so nothing here imports the `acp` package. `wire.py` speaks JSON-RPC over stdio,
`turns.py` plays the scripted turns, `agent.py` holds sessions, history and the ACP methods.
"""
