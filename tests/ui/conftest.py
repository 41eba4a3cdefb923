"""Browser tests: a real `jupyter lab` in a subprocess, driven by headless Debian Chromium.

General fixtures, reused by every browser test (the side panel's, the notebook widget's):

- ``lab_server`` (session): a running JupyterLab with glue_jupyter, on a free port, a token,
  a temporary root dir and data dir, the demo agent at a fast pace. Has ``url``, ``token``,
  ``root_dir``, ``api(method, path, body)``, ``lab_url(path)``.
- ``browser`` (session): Playwright's Chromium at /usr/bin/chromium (never downloaded).
- ``page`` (function): a fresh browser context and page, already authenticated against
  ``lab_server``; its screenshot is saved to test-artifacts/ when the test fails.
- ``open_lab(page)``: load JupyterLab (a clean workspace) and wait until it is usable.
- ``artifacts``: the test-artifacts/ directory (gitignored) for screenshots.
- ``set_theme(page, "JupyterLab Dark")``: switch the theme and wait until it applies.

Waits are on what a user sees (Playwright locators and expect), never on fixed sleeps;
the only polling is the server's HTTP readiness probe.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from glue_jupyter.pytest_plugin import require

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("GLUE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PACE = 0.05
SERVER_START_TIMEOUT = 90.0
UI_TIMEOUT_MS = 20_000

try:  # Playwright is a test dependency; without it (or without chromium) skip, don't error.
    from playwright.sync_api import Browser, Page, expect, sync_playwright
    expect.set_options(timeout=20_000)
except ImportError:  # pragma: no cover
    sync_playwright = None


def missing_browser() -> str | None:
    if sync_playwright is None:
        return "the playwright package is not installed"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config, items):
    # In CI the browser tests are part of the contract: a missing browser is a failure.
    require(items, Path(__file__).parent, "ui", missing_browser(), "browser tests")
    # The session-wide sync Playwright keeps its event loop running on the main thread until the
    # end of the run, so an asyncio test after the first browser test cannot start its own loop
    # ("Runner.run() cannot be called from a running event loop"): browser tests go last.
    items.sort(key=lambda item: item.get_closest_marker("ui") is not None)


def pytest_configure(config):
    config.addinivalue_line("markers", "ui: browser test against a real jupyter lab")


# The browser tests drive a subprocess server from synchronous Playwright, whose own event
# loop must not meet pytest-jupyter's autouse loop/cleanup fixtures (in-process server only).
@pytest.fixture
def jp_asyncio_loop():
    yield None


@pytest.fixture
def jp_server_cleanup():
    yield


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    url: str  # base URL, ends with "/"
    token: str
    root_dir: Path
    data_dir: Path
    db_path: Path
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def lab_url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.url}{path.lstrip('/')}{sep}token={self.token}"

    def api(self, method: str, path: str, body: Any = None, expect: int | None = None) -> Any:
        """Call the server's REST API (token in the Authorization header)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}{path.lstrip('/')}", data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read().decode()
        if expect is not None and status != expect:
            raise AssertionError(f"{method} {path}: expected {expect}, got {status}: {text}")
        return json.loads(text) if text else None

    def sessions(self, **params: str) -> list[dict]:
        q = "&".join(f"{k}={urllib.request.quote(v)}" for k, v in params.items())
        return self.api("GET", f"api/glue/sessions{'?' + q if q else ''}", expect=200)["sessions"]

    def wait_session(self, session_id: str, predicate: Callable[[dict], bool], timeout: float = 30):
        """Wait on the session's event stream until `predicate(session)` holds (for setup and
        teardown only; the tests themselves wait on what the page shows)."""
        from glue_jupyter.client import connect
        from glue_jupyter.client.stream import wait_for_session

        client = connect(self.url, self.token)
        return wait_for_session(client, session_id, predicate, timeout=timeout)

    def stop_all(self) -> None:
        """Free every concurrency slot (between tests)."""
        for s in self.sessions():
            if s["state"] in ("starting", "idle", "running", "interrupting", "paused"):
                self.api("POST", f"api/glue/sessions/{s['id']}/stop", {})


# jupyter-collaboration (real-time collaboration), when installed, enables itself everywhere:
# a test lab runs without it unless asked for (collaborative=True).
COLLABORATION_LAB_EXTENSIONS = ("@jupyter/collaboration-extension", "@jupyter/docprovider-extension")


def write_server_config(path: Path, root: Path, data: Path, db: Path, extra: str = "",
                        collaborative: bool = False) -> None:
    agents = {
        "demo": {
            "argv": [sys.executable, "-m", "glue_jupyter.agents.demo", "--pace", str(DEMO_PACE),
                     "--state-dir", str(data / "demo-agent")],
            "env": {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))},
        },
        # Numbers its tool calls call-1, call-2… in every turn, as some agents do.
        "demo-per-turn": {
            "argv": [sys.executable, "-m", "glue_jupyter.agents.demo", "--pace", str(DEMO_PACE),
                     "--state-dir", str(data / "demo-agent"), "--per-turn-tool-ids"],
            "env": {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))},
            "title": "Demo (tool ids per turn)",
        },
        # Slow enough (a default turn takes ~10 s) to act on a turn while it runs.
        "demo-slow": {
            "argv": [sys.executable, "-m", "glue_jupyter.agents.demo", "--pace", "0.5",
                     "--state-dir", str(data / "demo-agent")],
            "env": {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))},
            "title": "Demo (slow)",
        },
        "missing-agent": {
            "argv": ["/nonexistent/glue-test-agent"],
            "title": "Missing agent",
            "install_hint": "pip install missing-agent",
        },
    }
    path.write_text(
        "c = get_config()  # noqa\n"
        f"c.ServerApp.root_dir = {str(root)!r}\n"
        "c.ServerApp.open_browser = False\n"
        "c.ServerApp.allow_root = True  # CI runs as root\n"
        f"c.ServerApp.jpserver_extensions = {{'glue_jupyter': True, 'jupyter_server_ydoc': {collaborative}}}\n"
        "c.LabApp.expose_app_in_browser = True\n"
        "c.LabApp.check_for_updates_class = 'jupyterlab.NeverCheckForUpdate'\n"
        "c.LabApp.news_url = None\n"
        f"c.GlueApp.db_path = {str(db)!r}\n"
        f"c.GlueApp.data_dir = {str(data)!r}\n"
        "c.GlueApp.max_active_sessions = 12\n"
        "c.GlueApp.stop_grace_period = 2.0\n"
        f"c.GlueApp.agents = {agents!r}\n" + extra
    )


def start_lab(tmp: Path, *, extra_config: str = "", prepare: Callable[[Path], None] | None = None,
              app: str = "jupyterlab", collaborative: bool = False) -> LabServer:
    """Start `jupyter lab` (or another server app, e.g. "jupyter_server") and wait for its HTTP
    readiness. `prepare(db_path)` runs first. `collaborative`: with jupyter-collaboration's
    extensions on (the test needs it installed), else they are off."""
    root = tmp / "root"
    data = tmp / "data"
    conf = tmp / "config"
    runtime = tmp / "runtime"
    for d in (root, data, conf, runtime):
        d.mkdir(parents=True, exist_ok=True)
    # No announcement or news toasts over the UI under test.
    (conf / "labconfig").mkdir(exist_ok=True)
    disabled = {"@jupyterlab/apputils-extension:announcements": True}
    if not collaborative:
        disabled.update(dict.fromkeys(COLLABORATION_LAB_EXTENSIONS, True))
    (conf / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": disabled}))
    db = data / "sessions.db"
    if prepare:
        prepare(db)
    config_file = conf / "glue_test_config.py"
    write_server_config(config_file, root, data, db, extra_config, collaborative)
    port = free_port()
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(conf),
        "JUPYTER_DATA_DIR": str(data / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    log_path = tmp / "jupyter-lab.log"
    argv = [
        sys.executable, "-m", app,
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        f"--config={config_file}",
    ]
    log = open(log_path, "w")
    proc = subprocess.Popen(argv, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    server = LabServer(url=f"http://127.0.0.1:{port}/", token=token, root_dir=root,
                       data_dir=data, db_path=db, log_path=log_path, process=proc)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:  # readiness probe
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            info = server.api("GET", "api/glue/info")
            if info and "version" in info:
                break
        except (urllib.error.URLError, ConnectionError, OSError, json.JSONDecodeError):
            pass
        if time.monotonic() > deadline:
            stop_lab(server)
            raise TimeoutError(f"jupyter lab did not answer in time:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.2)
    return server


def stop_lab(server: LabServer) -> None:
    proc = server.process
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory) -> LabServer:
    server = start_lab(tmp_path_factory.mktemp("lab"))
    yield server
    stop_lab(server)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def page(browser, lab_server, artifacts, request):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, device_scale_factor=1)
    context.set_default_timeout(UI_TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    pg.on("console", lambda msg: msg.type in ("error", "warning") and errors.append(f"console.{msg.type}: {msg.text}"))
    pg.glue_errors = errors  # type: ignore[attr-defined]
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        try:
            pg.screenshot(path=str(artifacts / f"FAILED-{request.node.name}.png"))
            (artifacts / f"FAILED-{request.node.name}.log").write_text("\n".join(errors))
        except Exception:  # noqa: BLE001 - best effort
            pass
    context.close()
    ours = [e for e in errors if e.startswith("pageerror") or "glue_jupyter" in e]
    assert not ours, f"the page reported errors: {ours}"


@pytest.fixture
def open_lab(lab_server):
    """Return a function that loads JupyterLab in a page with a clean workspace."""

    def _open(pg: "Page", path: str = "lab?reset") -> "Page":
        pg.goto(lab_server.lab_url(path))
        expect(pg.locator("#jp-main-dock-panel")).to_be_visible(timeout=60_000)
        # The app is ready when its layout is restored and the launcher or a document shows in
        # the main area: that one takes the focus, so typing before it would be cut short.
        pg.wait_for_function("() => window.jupyterapp && window.jupyterapp.started !== undefined")
        pg.evaluate("() => window.jupyterapp.restored")
        pg.wait_for_function("() => !window.jupyterapp.shell.isEmpty('main')", timeout=60_000)
        return pg

    return _open


@pytest.fixture
def set_theme():
    """Return a function switching JupyterLab's theme ('JupyterLab Light' / 'JupyterLab Dark')."""

    def _set(pg: "Page", theme: str) -> None:
        pg.evaluate(
            "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
        )
        light = "true" if "Light" in theme else "false"
        expect(pg.locator("body")).to_have_attribute("data-jp-theme-light", light)
        expect(pg.locator("body")).to_have_attribute("data-jp-theme-name", theme)
        # JupyterLab shows its splash while a theme loads; a second change inside the splash's
        # 200 ms fade-out makes it remove the splash twice (a page error of JupyterLab's own).
        expect(pg.locator("#jupyterlab-splash")).to_have_count(0)

    return _set


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shoot_light_dark_phone(artifacts, set_theme):
    """Return `shoot(page, node, name)`: `name-light.png` and `name-dark.png` of `node`, then
    `name-phone.png` of the page at phone width with `node` in view (the side areas collapsed,
    unless `node` is in a side panel: that one is shown); the page is left light, at its
    former size."""

    def _shoot(pg: "Page", node, name: str) -> None:
        for theme, suffix in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
            set_theme(pg, theme)
            node.screenshot(path=str(artifacts / f"{name}-{suffix}.png"))
        set_theme(pg, "JupyterLab Light")
        size = pg.viewport_size
        pg.set_viewport_size(PHONE)
        node.evaluate("""(el) => { const shell = window.jupyterapp.shell;
            shell.collapseRight();
            const side = [...shell.widgets('left')].find(w => w.node.contains(el));
            if (side) { shell.activateById(side.id); return; }
            shell.collapseLeft();
            for (const w of shell.widgets('main')) if (w.node.contains(el)) shell.activateById(w.id); }""")
        expect(pg.locator("#jupyterlab-splash")).to_have_count(0)  # shown while the layout changes mode
        node.scroll_into_view_if_needed()
        expect(node).to_be_in_viewport()
        pg.screenshot(path=str(artifacts / f"{name}-phone.png"))
        pg.set_viewport_size(size)

    return _shoot
