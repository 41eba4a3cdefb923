"""Discovery order: explicit → the server that launched the kernel → the server that lists the
kernel → (CLI only) the single running server. Runtime files are fakes in a temp dir; the
"lists this kernel" step talks to a tiny stdlib server."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from glue_jupyter.client import NoServerFound, discover
from glue_jupyter.client.discovery import kernel_id_from_connection_file

KERNEL = "5a1b2c3d-0000-4000-8000-000000000001"


def write_runtime(rt, name, *, pid, url, token="", **extra):
    info = {"pid": pid, "url": url, "token": token, "sock": "", "base_url": "/", **extra}
    (rt / f"jpserver-{name}.json").write_text(json.dumps(info))


@pytest.fixture
def rt(tmp_path):
    d = tmp_path / "runtime"
    d.mkdir()
    return d


@pytest.fixture
def dead_pid():
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.fixture
def kernel_server():
    """A fake Jupyter server whose api/sessions lists KERNEL; records auth headers."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            body = json.dumps([{"id": "s1", "kernel": {"id": KERNEL}}]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", seen
    httpd.shutdown()


def test_explicit_arguments_win(rt):
    write_runtime(rt, "1", pid=os.getpid(), url="http://other:1/")
    ref = discover("http://h:9/base", "tk", env={"JPY_PARENT_PID": str(os.getpid())}, rt_dir=str(rt))
    assert (ref.url, ref.token, ref.how) == ("http://h:9/base/", "tk", "explicit")


def test_env_vars_come_next(rt):
    write_runtime(rt, "1", pid=os.getpid(), url="http://other:1/")
    env = {"GLUE_JUPYTER_URL": "http://h:9/", "GLUE_JUPYTER_TOKEN": "tk", "JPY_PARENT_PID": str(os.getpid())}
    ref = discover(env=env, rt_dir=str(rt))
    assert (ref.url, ref.token) == ("http://h:9/", "tk")


def test_token_never_in_repr():
    ref = discover("http://h:9/", "secret-token", env={})
    assert "secret-token" not in repr(ref)


def test_parent_pid_picks_the_launching_server(rt, dead_pid):
    me = os.getpid()
    write_runtime(rt, "dead", pid=dead_pid, url="http://dead:1/", token="d")
    write_runtime(rt, "other", pid=os.getppid(), url="http://other:2/", token="o")
    write_runtime(rt, "parent", pid=me, url="http://parent:3/", token="p")
    ref = discover(env={"JPY_PARENT_PID": str(me)}, rt_dir=str(rt))
    assert (ref.url, ref.token, ref.how) == ("http://parent:3/", "p", "parent")


def test_server_listing_this_kernel(rt, kernel_server):
    url, seen = kernel_server
    # Both alive (this process and its parent); only one lists our kernel.
    write_runtime(rt, "a", pid=os.getppid(), url="http://127.0.0.1:9/", token="nope")  # refuses connections
    write_runtime(rt, "b", pid=os.getpid(), url=url, token="kt")
    ref = discover(env={}, rt_dir=str(rt), connection_file=f"/x/kernel-{KERNEL}.json")
    assert (ref.url, ref.how) == (url, "kernel")
    assert ("/api/sessions", "token kt") in seen  # token in the header, not the URL


def test_unlisted_kernel_and_no_parent_is_not_found(rt, kernel_server):
    url, _ = kernel_server
    write_runtime(rt, "b", pid=os.getpid(), url=url)
    with pytest.raises(NoServerFound, match="jupyter lab"):
        discover(env={}, rt_dir=str(rt), connection_file="/x/kernel-someone-else.json")


def test_single_server_only_when_allowed(rt, dead_pid):
    write_runtime(rt, "dead", pid=dead_pid, url="http://dead:1/")
    write_runtime(rt, "one", pid=os.getpid(), url="http://one:1/", token="t1")
    with pytest.raises(NoServerFound):
        discover(env={}, rt_dir=str(rt))  # a kernel must not pick an arbitrary server
    assert discover(env={}, rt_dir=str(rt), allow_any=True).url == "http://one:1/"


def test_several_servers_ask_for_url(rt):
    write_runtime(rt, "one", pid=os.getpid(), url="http://one:1/")
    write_runtime(rt, "two", pid=os.getppid(), url="http://two:2/")
    with pytest.raises(NoServerFound, match="--url"):
        discover(env={}, rt_dir=str(rt), allow_any=True)


def test_unix_socket_and_garbage_files_are_skipped(rt):
    write_runtime(rt, "sock", pid=os.getpid(), url="http+unix://x/", sock="/tmp/s")
    (rt / "jpserver-bad.json").write_text("{not json")
    with pytest.raises(NoServerFound, match="no running Jupyter server"):
        discover(env={}, rt_dir=str(rt), allow_any=True)


def test_kernel_id_from_connection_file():
    assert kernel_id_from_connection_file(f"/r/kernel-{KERNEL}.json") == KERNEL
    assert kernel_id_from_connection_file("/r/other.json") is None
    assert kernel_id_from_connection_file(None) is None


# -- JupyterHub ------------------------------------------------------------------------------
# (The real thing, a hub with users' servers, is in tests/hub/test_cli_on_hub.py.)

HUB_SERVER_ENV = {
    "JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:8888/user/alice/",
    "JUPYTERHUB_API_TOKEN": "server-token",
    "JUPYTERHUB_ACTIVITY_URL": "http://hub:8081/hub/api/users/alice/activity",
}


def test_inside_a_hub_server_its_environment_names_it(rt):
    write_runtime(rt, "1", pid=os.getpid(), url="http://127.0.0.1:9999/user/alice/", token="")
    ref = discover(env={**HUB_SERVER_ENV, "JPY_PARENT_PID": str(os.getpid())}, rt_dir=str(rt))
    # Listening on every interface: reached on loopback, with the server's own hub token.
    assert (ref.url, ref.token, ref.how) == ("http://127.0.0.1:8888/user/alice/", "server-token", "jupyterhub")


def test_a_hub_service_environment_is_not_a_server(rt):
    service_env = {k: v for k, v in HUB_SERVER_ENV.items() if k != "JUPYTERHUB_ACTIVITY_URL"}
    with pytest.raises(NoServerFound):
        discover(env=service_env, rt_dir=str(rt))


def test_explicit_url_wins_over_the_hub_environment(rt):
    ref = discover(env={**HUB_SERVER_ENV, "GLUE_JUPYTER_URL": "http://elsewhere:1/"}, rt_dir=str(rt))
    assert ref.url == "http://elsewhere:1/"


@pytest.mark.parametrize("flags, message", [
    ({"url": "http://a/", "hub": "http://h/"}, "either --url"),
    ({"server": "gpu"}, "pass --hub URL too"),
    ({"hub": "http://127.0.0.1:9/", "token": ""}, "needs a token"),
    ({"hub": "http://127.0.0.1:9/", "token": "t"}, "cannot reach the hub at http://127.0.0.1:9/hub/api/"),
])
def test_hub_flags_errors_say_what_to_do(rt, flags, message):
    with pytest.raises(NoServerFound, match=message):
        discover(env={}, rt_dir=str(rt), **flags)


@pytest.mark.parametrize("given, api", [
    ("https://hub.example.org", "https://hub.example.org/hub/api/"),
    ("https://hub.example.org/hub/token", "https://hub.example.org/hub/api/"),
    ("https://example.org/jupyter/", "https://example.org/jupyter/hub/api/"),
    ("https://example.org/jupyter/hub/home", "https://example.org/jupyter/hub/api/"),
    ("hub.example.org:8000", "https://hub.example.org:8000/hub/api/"),
])
def test_any_page_of_the_hub_is_a_hub_url(given, api):
    from glue_jupyter.client.hub import hub_api_url

    assert hub_api_url(given) == api
