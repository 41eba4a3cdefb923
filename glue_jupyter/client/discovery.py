"""Find the Jupyter server that owns the sessions.

Order (first hit wins):
1. an explicit url/token (``--url``/``--token``), else ``GLUE_JUPYTER_URL``/``GLUE_JUPYTER_TOKEN``;
2. an explicit JupyterHub (``--hub URL --token T [--server NAME]``): the hub's API says where the
   token owner's server is;
3. inside a JupyterHub single-user server: the server and token its spawner's environment names
   (``JUPYTERHUB_SERVICE_URL``, ``JUPYTERHUB_API_TOKEN``), see ``hub``;
4. the server that launched this kernel: ``JPY_PARENT_PID`` matched against the ``pid`` of
   the ``jpserver-*.json`` runtime files;
5. the running server whose kernel sessions list this kernel (its connection file's id);
6. only when asked (the command line): the single running server, if there is exactly one.

Stdlib only: this runs in every kernel that loads the magics.
"""

from __future__ import annotations

import glob
import json
import os
import re
import urllib.request
from dataclasses import dataclass, field

from .errors import NoServerFound
from .hub import server_from_hub, server_in_environment

URL_ENV = "GLUE_JUPYTER_URL"
TOKEN_ENV = "GLUE_JUPYTER_TOKEN"
START_HINT = "start one with `jupyter lab` (or pass --url/--token, or set GLUE_JUPYTER_URL)"


@dataclass(frozen=True)
class ServerRef:
    url: str  # base URL, always ending in "/"
    token: str = field(default="", repr=False)  # never shown in a repr or a log
    how: str = "explicit"  # which discovery step found it, for messages

    def __post_init__(self):
        if not self.url.endswith("/"):
            object.__setattr__(self, "url", self.url + "/")


def runtime_dir() -> str:
    from jupyter_core.paths import jupyter_runtime_dir

    return jupyter_runtime_dir()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    except OSError:
        return False
    return True


def running_servers(rt_dir: str | None = None) -> list[dict]:
    """The runtime files of live servers that listen on TCP (newest first)."""
    rt_dir = rt_dir or runtime_dir()
    paths = glob.glob(os.path.join(rt_dir, "jpserver-*.json"))
    servers = []
    for path in sorted(paths, key=_mtime, reverse=True):
        try:
            with open(path, encoding="utf-8") as f:
                info = json.load(f)
        except (OSError, ValueError):
            continue  # half-written or unreadable: not ours to judge
        if not isinstance(info, dict) or not info.get("url") or info.get("sock"):
            continue
        if "pid" in info and not _pid_alive(int(info["pid"])):
            continue
        servers.append(info)
    return servers


def _mtime(path: str) -> float:
    try:
        return os.path.getmtime(path)
    except OSError:
        return 0.0


def _ref(info: dict, how: str) -> ServerRef:
    return ServerRef(url=info["url"], token=info.get("token") or "", how=how)


def kernel_id_from_connection_file(path: str | None) -> str | None:
    if not path:
        return None
    m = re.match(r"kernel-(.+)\.json$", os.path.basename(path))
    return m.group(1) if m else None


def current_connection_file() -> str | None:
    """The connection file of the kernel we run in, if any (without importing ipykernel)."""
    import sys

    kernelapp = sys.modules.get("ipykernel.kernelapp")
    if kernelapp is None:
        return None
    app_cls = kernelapp.IPKernelApp
    if not app_cls.initialized():
        return None
    return app_cls.instance().abs_connection_file or None


def _lists_kernel(info: dict, kernel_id: str, timeout: float) -> bool:
    req = urllib.request.Request(ServerRef(info["url"]).url + "api/sessions")
    if info.get("token"):
        req.add_header("Authorization", f"token {info['token']}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            sessions = json.load(resp)
    except (OSError, ValueError):
        return False
    return any((s.get("kernel") or {}).get("id") == kernel_id for s in sessions or [])


def discover(
    url: str | None = None,
    token: str | None = None,
    *,
    env: dict | None = None,
    rt_dir: str | None = None,
    connection_file: str | None = None,
    allow_any: bool = False,
    timeout: float = 2.0,
    hub: str | None = None,
    server: str = "",
) -> ServerRef:
    """Return the server to use, or raise NoServerFound."""
    env = os.environ if env is None else env
    if url and hub:
        raise NoServerFound("pass either --url (a server) or --hub (a JupyterHub), not both")
    if server and not hub:
        raise NoServerFound(f"--server {server} names one of your servers on a JupyterHub: pass --hub URL too")
    url = url or (None if hub else env.get(URL_ENV))
    if url:
        return ServerRef(url, token if token is not None else env.get(TOKEN_ENV, ""), "explicit")
    if hub:
        hub_token = token if token is not None else env.get(TOKEN_ENV, "")
        return ServerRef(*server_from_hub(hub, hub_token, server or ""), "hub")
    inside = server_in_environment(env)
    if inside:
        return ServerRef(*inside, "jupyterhub")

    servers = running_servers(rt_dir)
    parent = env.get("JPY_PARENT_PID")
    if parent and parent.isdigit():
        for info in servers:
            if info.get("pid") == int(parent):
                return _ref(info, "parent")

    kernel_id = kernel_id_from_connection_file(connection_file or current_connection_file())
    if kernel_id:
        for info in servers:
            if _lists_kernel(info, kernel_id, timeout):
                return _ref(info, "kernel")

    if allow_any:
        if len(servers) == 1:
            return _ref(servers[0], "only")
        if len(servers) > 1:
            urls = ", ".join(_public_url(s["url"]) for s in servers)
            raise NoServerFound(f"several Jupyter servers are running ({urls}); pick one with --url")
    raise NoServerFound(f"no running Jupyter server found; {START_HINT}")


def _public_url(url: str) -> str:
    # Runtime urls carry no token, but be strict: drop any query string.
    return url.split("?", 1)[0]
