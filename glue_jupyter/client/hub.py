"""Finding a user's server through JupyterHub (stdlib only, like the rest of discovery).

Two ways in:
- inside a single-user server (a terminal, a kernel): the spawner's environment names the
  server (`JUPYTERHUB_SERVICE_URL`) and gives its token (`JUPYTERHUB_API_TOKEN`);
- from anywhere, with the hub's URL and one of the user's API tokens (the hub's Token page):
  the hub's API says where the user's server is (`--hub URL --token T [--server NAME]`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from .errors import NoServerFound

# Only a single-user server's environment has an activity URL (the hub removes it for services).
SERVER_ENV = ("JUPYTERHUB_SERVICE_URL", "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_ACTIVITY_URL")
WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}


def server_in_environment(env) -> tuple[str, str] | None:
    """(url, token) of the single-user server this process runs in, if it runs in one."""
    if not all(env.get(name) for name in SERVER_ENV):
        return None
    parts = urllib.parse.urlsplit(env["JUPYTERHUB_SERVICE_URL"])
    host = parts.hostname or ""
    if host in WILDCARD_HOSTS or f"[{host}]" in WILDCARD_HOSTS:
        # It listens on every interface: from inside, reach it on loopback.
        netloc = f"127.0.0.1:{parts.port}" if parts.port else "127.0.0.1"
        parts = parts._replace(netloc=netloc)
    return urllib.parse.urlunsplit(parts), env["JUPYTERHUB_API_TOKEN"]


def hub_api_url(hub_url: str) -> str:
    """`https://hub.example.org/` or `…/hub/` or `…/prefix/hub/home` → `…/hub/api/`."""
    parts = urllib.parse.urlsplit(hub_url if "://" in hub_url else f"https://{hub_url}")
    path = parts.path.rstrip("/") + "/"
    base = path[: path.find("/hub/")] if "/hub/" in path else path.rstrip("/")
    return urllib.parse.urlunsplit(parts._replace(path=base + "/hub/api/", query="", fragment=""))


def server_from_hub(hub_url: str, token: str, server_name: str = "", timeout: float = 10.0) -> tuple[str, str]:
    """(url, token) of the token owner's server `server_name` ("" is the default server)."""
    if not token:
        raise NoServerFound("--hub needs a token: create one on the hub's Token page and pass --token")
    api = hub_api_url(hub_url)
    request = urllib.request.Request(api + "user", headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            user = json.load(response)
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            raise NoServerFound(f"the hub at {api} refused the token ({e.code}); create a new one on "
                                "the hub's Token page") from None
        raise NoServerFound(f"the hub at {api} answered {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise NoServerFound(f"cannot reach the hub at {api} ({getattr(e, 'reason', e)})") from None
    servers = user.get("servers")
    if servers is None:
        raise NoServerFound("the token may not read your servers (scope read:servers); create one on "
                            "the hub's Token page with your full permissions")
    label = f"{user.get('name')}'s server" + (f" {server_name!r}" if server_name else "")
    server = servers.get(server_name)
    if not server or not server.get("ready"):
        names = ", ".join(repr(n) if n else "the default one" for n, s in servers.items() if s.get("ready"))
        running = f"; running: {names}" if names else ""
        spawn = api[: -len("api/")] + "spawn" + (f"/{user.get('name')}/{server_name}" if server_name else "")
        raise NoServerFound(f"{label} is not running (start it at {spawn}){running}")
    origin = urllib.parse.urlunsplit(urllib.parse.urlsplit(api)._replace(path="", query="", fragment=""))
    url = server["url"] if "://" in server["url"] else origin + server["url"]
    return url, token
