"""glue_jupyter: run and steer AI coding agents from Jupyter.

Importing this package is cheap on purpose (it runs in every kernel that loads the magics):
the engine, the ACP driver and the server extension are imported only where they are used.
"""

__version__ = "0.1.0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "glue-jupyter"}]


def _jupyter_server_extension_points():
    return [{"module": "glue_jupyter.server.app", "app": _glue_app()}]


def _glue_app():
    from .server.app import GlueApp

    return GlueApp


def load_ipython_extension(ipython):
    from .magics import load_ipython_extension as load

    load(ipython)
