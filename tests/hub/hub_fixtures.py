"""A real JupyterHub on loopback for the hub tests: configurable-http-proxy (npm), the dummy
authenticator, SimpleLocalProcessSpawner, users alice and bob and an admin, carol; the glue portal
as a managed service with OAuth; optionally jupyterhub-idle-culler with a short timeout.

One hub per test module (`launch_hub` in a module-scoped fixture): starting one takes seconds.
Waits are on what the hub or a server reports (readiness, states), each with a deadline.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx

from glue_jupyter.pytest_plugin import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
NPM_TOOLS = Path(os.environ.get("GLUE_NPM_TOOLS", Path.home() / ".cache" / "glue_jupyter" / "npm-tools"))
PASSWORD = "glue-test-password"
USERS = ("alice", "bob")
ADMIN = "carol"
LIMITS = {"alice": 3, "bob": 2, "carol": 4}  # per user, from the spawner's environment
WAIT = 60.0


def find_proxy() -> str | None:
    for candidate in (os.environ.get("GLUE_TEST_CHP"),
                      str(NPM_TOOLS / "node_modules" / ".bin" / "configurable-http-proxy"),
                      shutil.which("configurable-http-proxy")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def until(predicate: Callable[[], Any], what: str, timeout: float = WAIT, every: float = 0.1) -> Any:
    """Poll `predicate` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


HUB_CONFIG = """\
import json
c = get_config()  # noqa
settings = json.loads({settings!r})
limits = settings["limits"]

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = settings["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.JupyterHub.db_url = "sqlite:///" + settings["home"] + "/hub.sqlite"
c.JupyterHub.cookie_secret_file = settings["home"] + "/cookie_secret"
c.JupyterHub.last_activity_interval = 2  # the proxy's activity, polled often: a portal poll through it would show
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:%d" % settings["proxy_api_port"]
c.ConfigurableHTTPProxy.pid_file = settings["home"] + "/proxy.pid"

c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = settings["password"]
c.Authenticator.allowed_users = set(settings["users"])
c.Authenticator.admin_users = {{settings["admin"]}}
c.JupyterHub.allow_named_servers = True

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = settings["home"] + "/users/{{username}}"
c.Spawner.cmd = [settings["singleuser"]]
c.Spawner.interrupt_timeout = 20
c.Spawner.environment = {{
    "JUPYTER_CONFIG_DIR": settings["server_config"],
    "JUPYTERHUB_ACTIVITY_INTERVAL": "1",
    # A per-user limit from the hub's side:
    "GLUE_JUPYTER_MAX_ACTIVE_SESSIONS": lambda spawner: str(limits[spawner.user.name]),
}}

c.JupyterHub.custom_scopes = {{
    "custom:glue:admin": {{"description": "See and steer every user's agent sessions in the glue portal."}},
}}
c.JupyterHub.load_roles = [
    {{"name": "user", "scopes": ["self", "access:services!service=glue"]}},
    {{"name": "glue-portal", "scopes": ["proxy"], "services": ["glue"]}},
    {{"name": "glue-admin", "users": [settings["admin"]],
      "scopes": ["custom:glue:admin", "list:users", "read:servers", "access:servers"]}},
    {{"name": "driver", "services": ["driver"],
      "scopes": ["admin:users", "admin:servers", "tokens", "access:servers", "proxy"]}},
]
c.JupyterHub.services = [
    {{"name": "glue", "url": "http://127.0.0.1:%d" % settings["portal_port"],
      "command": [settings["python"], "-m", "glue_jupyter.hub", *settings["portal_args"]],
      "oauth_no_confirm": True,
      "oauth_client_allowed_scopes": ["list:users", "read:servers", "access:servers", "custom:glue:admin"]}},
    {{"name": "driver", "api_token": settings["driver_token"]}},
]
if settings["cull_timeout"]:
    c.JupyterHub.load_roles.append({{
        "name": "idle-culler", "services": ["idle-culler"],
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]}})
    c.JupyterHub.services.append({{
        "name": "idle-culler",
        "command": [settings["python"], "-m", "jupyterhub_idle_culler",
                    "--timeout=%d" % settings["cull_timeout"], "--cull-every=1"],
    }})
"""

SERVER_CONFIG = {
    "ServerApp": {
        # Only what the tests use: the server starts faster.
        "jpserver_extensions": {"glue_jupyter": True, "jupyterlab": False, "jupyter_lsp": False,
                                "notebook_shim": False, "nbclassic": False, "notebook": False},
        "allow_root": True,  # containers and CI machines often run as root
    },
    "GlueApp": {"stop_grace_period": 2.0, "interrupt_timeout": 5.0},
}


@dataclass
class Hub:
    url: str  # the proxy's public URL, ending in "/"
    home: Path
    driver_token: str = field(repr=False)
    process: subprocess.Popen = field(repr=False)
    log_path: Path = field(repr=False)
    http: httpx.Client = field(repr=False, default_factory=lambda: httpx.Client(timeout=WAIT))

    # -- the hub's REST API ------------------------------------------------------------------
    def api(self, method: str, path: str, token: str | None = None, body: Any = None,
            expect: int | tuple[int, ...] | None = None, **params) -> Any:
        response = self.http.request(method, f"{self.url}hub/api/{path}", params=params or None,
                                     json=body, headers={"Authorization": f"token {token or self.driver_token}"})
        _check(response, expect)
        return response.json() if response.content else None

    def token_for(self, user: str, **body) -> str:
        return self.api("POST", f"users/{user}/tokens", body={"note": "glue tests", **body})["token"]

    def tokens(self) -> dict[str, str]:
        """An API token of each user, with the user's own permissions (as the hub's Token page makes)."""
        return {user: self.token_for(user) for user in (*USERS, ADMIN)}

    def server_model(self, user: str, name: str = "") -> dict | None:
        return (self.api("GET", f"users/{user}", include_stopped_servers=1)["servers"] or {}).get(name)

    def start_server(self, user: str, name: str = "") -> dict:
        path = f"users/{user}/servers/{name}" if name else f"users/{user}/server"
        self.api("POST", path, expect=(201, 202, 400))  # 400: already running
        return until(lambda: (m := self.server_model(user, name)) and m["ready"] and m,
                     f"{user}'s server {name!r} to be ready")

    def start_servers(self, *servers: tuple[str, str]) -> None:
        """Start several servers at once (each start waits for its server to be ready)."""
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(lambda server: self.start_server(*server), servers))

    def stop_server(self, user: str, name: str = "") -> None:
        path = f"users/{user}/servers/{name}" if name else f"users/{user}/server"
        self.api("DELETE", path, expect=(202, 204, 400))
        self.wait_stopped(user, name)

    def wait_stopped(self, user: str, name: str = "", timeout: float = WAIT) -> None:
        until(lambda: not ((m := self.server_model(user, name)) and (m["ready"] or m["pending"])),
              f"{user}'s server {name!r} to stop", timeout)

    def server_pid(self, user: str, name: str = "") -> int:
        return self.server_model(user, name)["state"]["pid"]  # the driver may read server state

    # -- a user's single-user server, through the proxy ----------------------------------------
    def glue(self, method: str, user: str, path: str, token: str, body: Any = None, server: str = "",
             expect: int | tuple[int, ...] | None = 200) -> Any:
        prefix = f"user/{user}/{server + '/' if server else ''}"
        response = self.http.request(method, f"{self.url}{prefix}api/glue/{path}", json=body,
                                     headers={"Authorization": f"token {token}"})
        _check(response, expect)
        return response.json() if response.content else None

    def wait_session(self, user: str, token: str, sid: str, predicate: Callable[[dict], bool],
                     what: str, server: str = "", timeout: float = WAIT) -> dict:
        return until(lambda: (s := self.glue("GET", user, f"sessions/{sid}", token, server=server))
                     and predicate(s) and s, what, timeout)

    def run_in_kernel(self, user: str, token: str, code: str, timeout: float = WAIT) -> str:
        """Start a kernel in the user's server, run `code` in it over the kernel's WebSocket (as
        JupyterLab does), shut it down; returns what the cell showed (text), errors included."""
        import uuid

        import websocket

        kernel = self.glue_raw("POST", user, "api/kernels", token, {"name": "python3"})
        ws_url = self.url.replace("http", "ws", 1) + f"user/{user}/api/kernels/{kernel['id']}/channels"
        socket = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"], timeout=timeout)
        msg_id = uuid.uuid4().hex
        try:
            socket.send(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": uuid.uuid4().hex,
                           "username": user, "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True},
            }))
            shown = []
            while True:
                message = json.loads(socket.recv())
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = message["msg_type"], message["content"]
                if kind == "stream":
                    shown.append(content["text"])
                elif kind in ("display_data", "execute_result"):
                    shown.append(content["data"].get("text/plain", ""))
                elif kind == "error":
                    shown.append("\n".join(content["traceback"]))
                elif kind == "status" and content["execution_state"] == "idle":
                    return "".join(shown)
        finally:
            socket.close()
            self.glue_raw("DELETE", user, f"api/kernels/{kernel['id']}", token, expect=204)

    def glue_raw(self, method: str, user: str, path: str, token: str, body: Any = None,
                 expect: int | tuple[int, ...] | None = (200, 201)) -> Any:
        """Any route of the user's server (path under /user/NAME/), through the proxy."""
        response = self.http.request(method, f"{self.url}user/{user}/{path}", json=body,
                                     headers={"Authorization": f"token {token}"})
        _check(response, expect)
        return response.json() if response.content else None

    # -- the portal ----------------------------------------------------------------------------
    def portal(self, method: str, path: str, token: str, body: Any = None,
               expect: int | tuple[int, ...] | None = 200) -> Any:
        response = self.http.request(method, f"{self.url}services/glue/{path}", json=body,
                                     headers={"Authorization": f"token {token}"})
        _check(response, expect)
        return response.json() if response.content else None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _check(response: httpx.Response, expect) -> None:
    if expect is None:
        return
    allowed = (expect,) if isinstance(expect, int) else expect
    assert response.status_code in allowed, \
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text[:500]}"


PORTAL_ARGS = ("--GluePortal.server_timeout=1.5", "--GluePortal.refresh_interval=1")


def launch_hub(home: Path, *, cull_timeout: int | None = None, portal_args: tuple[str, ...] = PORTAL_ARGS,
               extra_config: str = "") -> Hub:
    """Start a hub in `home`; `extra_config` is appended to its jupyterhub_config.py."""
    home.mkdir(parents=True, exist_ok=True)
    server_config = home / "server-config"
    server_config.mkdir(exist_ok=True)
    (server_config / "jupyter_server_config.json").write_text(json.dumps(SERVER_CONFIG))
    port = free_port()
    settings = {
        "home": str(home), "port": port, "hub_port": free_port(), "proxy_api_port": free_port(),
        "portal_port": free_port(), "proxy": find_proxy(), "password": PASSWORD,
        "users": [*USERS, ADMIN], "admin": ADMIN, "limits": LIMITS, "python": sys.executable,
        "singleuser": str(Path(sys.executable).with_name("jupyterhub-singleuser")),
        "server_config": str(server_config), "driver_token": secrets.token_hex(16),
        "cull_timeout": cull_timeout, "portal_args": list(portal_args),
    }
    config = home / "jupyterhub_config.py"
    config.write_text(HUB_CONFIG.format(settings=json.dumps(settings)) + extra_config)
    log_path = home / "hub.log"
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    for name in list(env):  # a hub inside a hub's server must not mistake itself for a service
        if name.startswith("JUPYTERHUB_") or name.startswith("JUPYTER_"):
            del env[name]
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=home, env=env,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    hub = Hub(url=f"http://127.0.0.1:{port}/", home=home, driver_token=settings["driver_token"],
              process=process, log_path=log_path)

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError("jupyterhub exited:\n" + hub.log()[-4000:])
        try:
            portal = hub.http.get(f"{hub.url}services/glue/", follow_redirects=False)
            return hub.http.get(f"{hub.url}hub/api/").status_code == 200 and portal.status_code == 302
        except httpx.HTTPError:
            return False

    until(up, "jupyterhub and the portal to answer", timeout=90, every=0.2)
    return hub


def end_hub(hub: Hub) -> None:
    hub.http.close()
    if hub.process.poll() is None:
        hub.process.send_signal(signal.SIGTERM)  # stops every server it spawned, and the proxy
        try:
            hub.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(hub.process.pid, signal.SIGKILL)
            hub.process.wait()


@contextmanager
def running_hub(home: Path, *servers: tuple[str, str], **options):
    """A hub (see `launch_hub` for `options`) with `servers` started, ended on the way out."""
    hub = launch_hub(home, **options)
    try:
        if servers:
            hub.start_servers(*servers)
        yield hub
    finally:
        end_hub(hub)
