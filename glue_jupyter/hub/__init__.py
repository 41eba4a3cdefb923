"""The hub portal: one page (and JSON API) for a user's agent sessions across all their servers.

A JupyterHub managed service (`python -m glue_jupyter.hub`), signed in through the hub with
OAuth. It keeps no state the servers own: the hub says which servers a user has, each server
says what its sessions are, and controls are forwarded to the server where the session lives
with the user's own token. The top layer: it imports the client's pure helpers, nothing above.
"""
