"""`python -m glue_jupyter.hub`: the portal as a JupyterHub managed service.

Everything it needs comes from the environment JupyterHub gives a managed service
(JUPYTERHUB_SERVICE_URL, _SERVICE_PREFIX, _API_URL, _API_TOKEN, _CLIENT_ID, …); the rest are
traits (`--GluePortal.server_timeout=1`), with defaults that need no configuration.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import secrets
import signal
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuth
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from traitlets import Float, Int, List, Unicode, default
from traitlets.config import Application

from .. import __version__
from . import handlers
from .hubapi import HubAPI
from .portal import Portal
from .servers import LastSeen, ServerClient

HERE = Path(__file__).parent
# Enough parallel requests for every server of a large team at once: a slow server must never
# queue the others behind it (tornado's default is 10).
MAX_PARALLEL_REQUESTS = 1024


class GluePortal(Application):
    name = "glue-portal"
    description = "One place for a user's agent sessions across all their JupyterHub servers."
    version = __version__

    url = Unicode(help="The portal's address as the proxy reaches it. Default: $JUPYTERHUB_SERVICE_URL, "
                  "else http://127.0.0.1:10101.").tag(config=True)
    ip = Unicode(help="The interface to listen on. Default: the host of `url` when it is an address or "
                 "localhost, else every interface (on Kubernetes the url names the hub's Service, e.g. "
                 "http://hub:10101, which the pod cannot bind).").tag(config=True)
    port = Int(help="The port to listen on. Default: the port of `url`.").tag(config=True)
    base_url = Unicode(help="The portal's URL prefix. Default: $JUPYTERHUB_SERVICE_PREFIX, else /services/glue/."
                       ).tag(config=True)
    hub_api_url = Unicode(help="The hub's REST API. Default: $JUPYTERHUB_API_URL.").tag(config=True)

    server_timeout = Float(2.0, help="Seconds a server has to answer a listing before it is shown as "
                           "not answering (with what it said last time). Never holds up the others."
                           ).tag(config=True)
    control_timeout = Float(120.0, help="Seconds a forwarded control may take (an interrupt returns once "
                            "the turn ended).").tag(config=True)
    proxy_url = Unicode("", help="Reach servers through this proxy URL (e.g. http://proxy-public/) when "
                        "the portal may not read the proxy's routing table (scope `proxy`). Requests through "
                        "the proxy count as the user's activity, so prefer the scope.").tag(config=True)
    admin_scopes = List(Unicode(), ["admin:servers", "custom:glue:admin"],
                        help="A caller whose token holds any of these (unfiltered) sees every user's "
                        "servers and sessions.").tag(config=True)
    refresh_interval = Float(5.0, help="Seconds between the page's refreshes while it is visible.").tag(config=True)
    last_seen_limit = Int(10_000, help="Servers whose last answer is remembered for when they are stopped."
                          ).tag(config=True)

    @default("url")
    def _default_url(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_URL") or "http://127.0.0.1:10101"

    @default("ip")
    def _default_ip(self) -> str:
        host = urlparse(self.url).hostname or "127.0.0.1"
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return "127.0.0.1" if host == "localhost" else "0.0.0.0"
        return host

    @default("port")
    def _default_port(self) -> int:
        parsed = urlparse(self.url)
        return parsed.port or (443 if parsed.scheme == "https" else 80)

    @default("base_url")
    def _default_base_url(self) -> str:
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or "/services/glue/"
        return "/" + prefix.strip("/") + "/"

    @default("hub_api_url")
    def _default_hub_api_url(self) -> str:
        return os.environ.get("JUPYTERHUB_API_URL") or "http://127.0.0.1:8081/hub/api"

    def make_app(self) -> WebApplication:
        self.hub_auth = HubOAuth.instance(parent=self, api_url=self.hub_api_url, base_url=self.base_url)
        self.http = AsyncHTTPClient(force_instance=True, max_clients=MAX_PARALLEL_REQUESTS)
        hub = HubAPI(self.hub_api_url, self.hub_auth.api_token, self.http, timeout=max(self.server_timeout, 10.0))
        servers = ServerClient(self.http, self.server_timeout, self.proxy_url)
        self.portal = Portal(hub, servers, set(self.admin_scopes), LastSeen(self.last_seen_limit),
                             self.control_timeout)
        page = {"base_url": self.base_url, "hub_prefix": self.hub_auth.hub_prefix,
                "refresh": self.refresh_interval, "version": __version__}
        kwargs = {"portal": self.portal, "settings": page}
        routes = [(pattern, handler, kwargs) for pattern, handler in handlers.routes(self.base_url)]
        routes.append((self.base_url + "oauth_callback", handlers.OAUTH_CALLBACK))
        return WebApplication(
            routes,
            cookie_secret=secrets.token_bytes(32),  # OAuth re-signs users in silently after a restart
            template_path=str(HERE / "templates"),
            static_path=str(HERE / "static"),
            static_url_prefix=self.base_url + "static/",
            login_url=self.hub_auth.login_url,
        )

    def start(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        app = self.make_app()
        server = HTTPServer(app, xheaders=True, max_body_size=handlers.MAX_BODY)
        server.listen(self.port, self.ip)
        self.log.info("glue portal %s at %s%s (hub API %s)", __version__, self.url.rstrip("/"),
                      self.base_url, self.hub_api_url)
        # The hub stops a managed service with SIGINT or SIGTERM: both end it quietly.
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        await stopping.wait()
        self.log.info("glue portal: stopping")
        server.stop()
        self.http.close()


main = GluePortal.launch_instance
