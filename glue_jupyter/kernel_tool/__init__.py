"""The live-kernel tool: an agent may run code in the kernel of the notebook that started its
session — only when the user opted in (``%glue start --kernel``), each execution recorded in
the transcript and gated by the permission policy, and interrupted with the agent's turn.

How it is wired (the engine knows none of it):

- the agent gets an MCP server over stdio (ACP ``mcpServers``, which every ACP agent takes):
  ``python -m glue_jupyter.kernel_tool`` (mcp.py, stdlib only), with a grant for this one
  session and kernel in its environment — never the user's Jupyter token;
- its ``run_in_kernel`` tool posts the code to the server's ``api/glue/kernel-tool`` route
  (route.py), which runs it through the engine's client-tool gate (engine/client_tools.py)
  with executor.py: wait until the kernel is idle, execute, collect the outputs as text,
  interrupt the kernel if the turn is interrupted meanwhile.
"""
