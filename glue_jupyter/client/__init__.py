"""One Python client for the glue server API, used by the magics, the widget and the CLI.

``connect()`` finds the server (see ``discovery``) and returns a blocking ``GlueClient``.
``EmbeddedClient`` has the same methods but runs the engine in this process. Importing this
package is cheap: no engine, no ACP, no tornado.
"""

from .discovery import ServerRef, discover
from .errors import GlueClientError, NoServerFound, ServerError
from .http import GlueClient


def connect(url=None, token=None, *, allow_any=False, **kwargs) -> GlueClient:
    """The client for the server found by discovery; raises NoServerFound."""
    return GlueClient(discover(url, token, allow_any=allow_any, **kwargs))


__all__ = [
    "GlueClient", "GlueClientError", "NoServerFound", "ServerError", "ServerRef", "connect", "discover",
]
