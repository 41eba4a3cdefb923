"""The surfaces on a JupyterHub: `jupyter glue` inside a user's server with no flags at all and
from anywhere with the hub's URL and one of the user's API tokens; the magics in a kernel of the
user's server, finding it on their own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil

GLUE = str(Path(sys.executable).with_name("jupyter-glue"))


def glue(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([GLUE, *args], capture_output=True, text=True, timeout=60, env=env, cwd=cwd)


def test_from_anywhere_with_the_hub_url_and_a_token(hub, tokens, started):
    default = started("alice", prompt="quick")
    side = started("alice", server="lab2", prompt="quick")

    listing = glue("--hub", hub.url, "--token", tokens["alice"], "list", "--json")
    assert listing.returncode == 0, listing.stderr
    found = {s["id"] for s in json.loads(listing.stdout)}
    assert default["id"] in found and side["id"] not in found  # the default server, unless named

    named = glue("--hub", f"{hub.url}hub/home", "--server", "lab2", "--token", tokens["alice"], "list", "--json")
    assert named.returncode == 0, named.stderr
    assert side["id"] in {s["id"] for s in json.loads(named.stdout)}

    shown = glue("--hub", hub.url, "--token", tokens["alice"], "show", default["id"][:8])
    assert shown.returncode == 0 and "quick" in shown.stdout


def test_hub_errors_say_what_to_do(hub, tokens):
    not_running = glue("--hub", hub.url, "--token", tokens["bob"], "--server", "lab2", "list")
    assert not_running.returncode == 1
    assert "bob's server 'lab2' is not running" in not_running.stderr and "spawn/bob/lab2" in not_running.stderr
    refused = glue("--hub", hub.url, "--token", "not-a-token", "list")
    assert refused.returncode == 1 and "refused the token" in refused.stderr


def test_inside_a_users_server_no_flags_are_needed(hub, tokens, started):
    sid = started("bob", prompt="quick")["id"]
    # A terminal or kernel in bob's server has the environment his spawner gave the server.
    server = psutil.Process(hub.server_pid("bob"))
    listing = glue("list", "--json", env=server.environ(), cwd=Path(server.cwd()))
    assert listing.returncode == 0, listing.stderr
    assert sid in {s["id"] for s in json.loads(listing.stdout)}


def test_the_magics_in_a_kernel_of_a_users_server_find_it(hub, tokens, started):
    started("alice", title="Seen from a notebook", server="lab2")
    shown = hub.run_in_kernel("alice", tokens["alice"], "%load_ext glue_jupyter\n%glue list")
    # The default server's kernel lists the default server's sessions, not lab2's.
    assert shown.strip() and "Traceback" not in shown and "Seen from a notebook" not in shown, shown
    started("alice", title="Tidy the loaders")
    shown = hub.run_in_kernel("alice", tokens["alice"], "%load_ext glue_jupyter\n%glue list")
    assert "Tidy the loaders" in shown, shown
