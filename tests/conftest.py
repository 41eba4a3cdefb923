"""The test server is pytest-jupyter's, with glue_jupyter enabled (see glue_jupyter.pytest_plugin)."""

pytest_plugins = ["pytest_jupyter.jupyter_server", "glue_jupyter.pytest_plugin"]


def pytest_configure(config):
    config.addinivalue_line("markers", "recording: run the server with a recording authorizer")
