"""`%glue` / `%%glue` in an in-process IPython shell against a real server (and, with no
server, on the embedded engine). Cells run in a worker thread: the server shares our loop."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest
from client_fixtures import call, glue_client, glue_env, glue_ref  # noqa: F401 - fixtures
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from glue_jupyter.magics import GlueMagics, NotebookMemory, parse_options
from glue_jupyter.pytest_plugin import REPO_ROOT

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@dataclass
class Ran:
    ok: bool
    stdout: str
    stderr: str
    outputs: list[dict]

    @property
    def text(self):
        return self.stdout + self.stderr + "".join(o.get("text/plain", "") for o in self.outputs)


class Notebook:
    """One shell with the magics loaded, as a kernel would have it."""

    def __init__(self, client=None, rich=True, memory=None):
        self.shell = InteractiveShell.instance()
        self.magics = GlueMagics(self.shell, client=client, memory=memory)
        self.magics.rich = rich
        self.shell.register_magics(self.magics)

    def _run(self, source):
        with capture_output() as cap:
            result = self.shell.run_cell(source)
        # An update of an earlier display (a widget's snapshot kept fresh from a thread) is not a
        # new output in a notebook: it replaces the one with its display id.
        return Ran(result.success, cap.stdout, cap.stderr, [o.data for o in cap.outputs if not o.update])

    async def run(self, source) -> Ran:
        return await call(self._run, source)


@pytest.fixture
def memory(tmp_path):
    return NotebookMemory(str(tmp_path / "nb.json"))


@pytest.fixture
def nb(glue_client, memory):
    return Notebook(glue_client, memory=memory)


async def test_start_shows_the_widget_with_a_snapshot(nb, jp_root_dir):
    r = await nb.run(f"%glue start --agent demo --cwd {jp_root_dir} --title Tidy quick tidy up")
    assert r.ok, r.text
    assert "glue: started" in r.stdout
    snapshot, widget = r.outputs
    assert "glue-snapshot" in snapshot["text/html"] and "tidy up" in snapshot["text/html"]
    assert WIDGET_MIME in widget and "text/html" not in widget  # no duplicate when untrusted
    assert nb.magics.current and nb.magics.current in r.stdout or nb.magics.current[:8] in r.stdout


async def test_every_subcommand(nb, glue_client, jp_root_dir):
    assert (await nb.run("%glue list")).text.strip().startswith("no sessions")
    r = await nb.run(f"%glue start --agent demo --cwd {jp_root_dir} sleep a while")
    assert r.ok, r.text
    sid = nb.magics.current

    r = await nb.run("%glue interrupt")
    assert r.ok and "interrupt" in r.stdout and "idle" in r.stdout, r.text
    events = await call(glue_client.events, sid)
    assert [e["data"]["stop_reason"] for e in events if e["kind"] == "turn_end"] == ["cancelled"]

    r = await nb.run("%%glue\nquick, after the interrupt")
    assert r.ok and "sent to" in r.stdout, r.text
    await call(glue_client.wait, sid, "idle", timeout=30)

    r = await nb.run("%glue pause")
    assert r.ok and "paused" in r.stdout
    r = await nb.run(f"%glue resume {sid[:8]} --wait quick follow-up")
    assert r.ok and "resumed" in r.stdout, r.text
    assert "quick follow-up" in r.outputs[0]["text/html"]  # --wait: the snapshot has the answer
    assert "Quick answer" in r.outputs[0]["text/html"]

    r = await nb.run("%glue stop")
    assert r.ok and "stopped" in r.stdout
    r = await nb.run("%glue resume quick, resumed with a message")
    assert r.ok and "resumed" in r.stdout, r.text
    s = await call(glue_client.wait, sid, "idle", timeout=30)
    assert s["resumed_via"] in ("native", "seeded")
    assert [e["data"]["text"] for e in await call(glue_client.events, sid) if e["kind"] == "user_message"][-1] == \
        "quick, resumed with a message"

    r = await nb.run("%glue list")
    assert sid[:8] in r.text and "idle" in r.text and "<table>" in r.outputs[0]["text/html"]
    r = await nb.run("%glue search follow-up")
    assert sid[:8] in r.text
    r = await nb.run("%glue search zebra-unicorn")
    assert "no session mentions" in r.text
    r = await nb.run("%glue agents")
    assert "demo" in r.text and "native resume" in r.text
    assert "not installed" in r.text and "It is never installed." in r.text
    r = await nb.run(f"%glue show {sid[:6]}")
    assert r.ok and WIDGET_MIME in r.outputs[-1]

    # %%glue ID targets another session, which becomes current
    other = await call(glue_client.start, "demo", str(jp_root_dir))
    r = await nb.run(f"%%glue {other['id']}\nquick")
    assert r.ok and nb.magics.current == other["id"]


async def test_cell_magic_starts_a_session_when_there_is_none(nb, glue_client, jp_root_dir, monkeypatch):
    monkeypatch.chdir(jp_root_dir)
    r = await nb.run("%%glue --agent demo --wait\nquick hello")
    assert r.ok, r.text
    s = await call(glue_client.get, nb.magics.current)
    assert s["agent"] == "demo" and s["cwd"] == str(jp_root_dir) and s["turns"] == 1


@pytest.mark.parametrize(
    "cell, message",
    [
        ("%glue", "missing subcommand"),
        ("%glue frobnicate", "unknown subcommand 'frobnicate'"),
        ("%glue start quick", "needs --agent"),
        ("%glue start --agnet demo", "unknown option --agnet"),
        ("%glue start --agent", "--agent needs a value"),
        ("%glue list everything", "takes no arguments"),
        ("%glue search", "needs some TEXT"),
        ("%glue pause a b", "at most one ID"),
        ("%%glue\n   ", "needs a prompt"),
    ],
)
async def test_usage_errors_are_short(nb, cell, message):
    r = await nb.run(cell)
    assert not r.ok
    assert "UsageError" in r.stderr and message in r.stderr and "Traceback" not in r.text
    assert "%glue start --agent NAME" in r.stderr  # the usage summary, every subcommand in it
    assert "allow|deny" in r.stderr and "%glue rename" in r.stderr and "%glue?" in r.stderr


@pytest.mark.parametrize(("cell", "guess"), [("%glue stpo", "'stop'"), ("%glue lsit", "'list'"),
                                             ("%glue alow", "'allow'"), ("%glue renam x", "'rename'")])
async def test_a_misspelt_subcommand_gets_a_did_you_mean(nb, cell, guess):
    r = await nb.run(cell)
    assert not r.ok and f"did you mean {guess}?" in r.stderr, r.text


async def test_no_stale_state_above_the_widget(nb, jp_root_dir):
    r = await nb.run(f"%glue start --agent demo --cwd {jp_root_dir} quick")
    assert r.ok and "glue: started" in r.stdout
    assert "→" not in r.stdout and "running" not in r.stdout and "idle" not in r.stdout  # the widget shows it live


async def test_rename_and_list_marks_what_needs_you(nb, glue_client, jp_root_dir):
    await nb.run(f"%glue start --agent demo --cwd {jp_root_dir} --title First quick")
    sid = nb.magics.current
    await call(glue_client.wait, sid, "idle", timeout=30)
    r = await nb.run("%glue rename Better title")
    assert r.ok and "renamed" in r.stdout, r.text
    r = await nb.run(f"%glue rename {sid[:8]} Best title")
    assert r.ok and (await call(glue_client.get, sid))["title"] == "Best title"
    r = await nb.run("%glue rename")
    assert not r.ok and "needs a TITLE" in r.stderr
    r = await nb.run("%glue list")
    table = r.outputs[-1]["text/plain"]
    assert "needs you" in table.splitlines()[0] and "finished" in table and "just now" in table
    assert "Best title" in table


async def test_refusals_are_one_line(nb, jp_root_dir):
    r = await nb.run("%glue interrupt")
    assert not r.ok and "glue: no current session" in r.text and "Traceback" not in r.text
    r = await nb.run("%glue show 0123456789abcdef0123456789abcdef")
    assert not r.ok and "glue:" in r.text and "Traceback" not in r.text
    await nb.run(f"%glue start --agent demo --cwd {jp_root_dir}")
    r = await nb.run("%glue interrupt")
    assert not r.ok and "idle" in r.text and "Traceback" not in r.text
    r = await nb.run(f"%glue start --agent missing --cwd {jp_root_dir}")
    assert not r.ok and "never installed" in r.text.lower() or "missing" in r.text
    r = await nb.run("%glue start --agent demo --cwd /")
    assert not r.ok and "glue: Folder / is outside" in r.text and "Traceback" not in r.text


def test_help_documents_every_subcommand():
    doc = GlueMagics.glue.__doc__
    for sub in ("start", "list", "search", "agents", "show", "interrupt", "pause", "stop", "resume", "allow",
                "deny", "rename", "%%glue"):
        assert sub in doc


async def test_current_session_survives_a_kernel_restart(glue_client, memory, jp_root_dir, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", str(jp_root_dir / "analysis.ipynb"))
    first = Notebook(glue_client, memory=memory)
    await first.run(f"%glue start --agent demo --cwd {jp_root_dir}")
    restarted = Notebook(glue_client, memory=memory)  # a new kernel: nothing in memory
    r = await restarted.run("%glue pause")
    assert r.ok and first.magics.current[:8] in r.stdout


async def test_terminal_mode_prints_and_follows(glue_client, memory, jp_root_dir):
    term = Notebook(glue_client, rich=False, memory=memory)
    r = await term.run(f"%glue start --agent demo --cwd {jp_root_dir} quick")
    assert r.ok and r.outputs == []
    assert "Agent: Quick answer" in r.stdout and "turn 1 ended: end_turn" in r.stdout
    r = await term.run("%%glue\nhello")  # follows only the new turn
    assert "User: quick" not in r.stdout and "turn 2 ended" in r.stdout


def test_options_parser_keeps_prose_verbatim():
    opts, rest = parse_options("--agent demo --cwd '/a b' --wait Don't touch utils.py", {
        "--agent": "agent", "--cwd": "cwd", "--wait": "wait"})
    assert opts == {"agent": "demo", "cwd": "/a b", "wait": True} and rest == "Don't touch utils.py"


@pytest.fixture
def terminal(tmp_path, monkeypatch):
    """A plain IPython terminal: no server anywhere, so the magics embed an engine (whose root
    is the terminal's current folder, as a user's would be)."""
    monkeypatch.chdir(tmp_path)
    for var in ("GLUE_JUPYTER_URL", "GLUE_JUPYTER_TOKEN", "JPY_PARENT_PID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    term = Notebook(client=None, rich=False, memory=NotebookMemory(str(tmp_path / "m.json")))
    yield term
    if term.magics._client is not None:
        term.magics._client.close()


def test_embedded_engine_without_a_server(terminal, tmp_path):
    r = terminal._run(f"%glue start --agent demo --cwd {tmp_path} quick")
    assert r.ok, r.text
    assert r.stderr.count("embedded engine") == 1 and "Quick answer" in r.stdout
    r = terminal._run("%glue list")
    assert "embedded" not in r.stderr and "idle" in r.stdout
    r = terminal._run("%glue stop")
    assert r.ok and "stopped" in r.stdout
    r = terminal._run("%glue start --agent demo --cwd /etc")  # the embedded root: the current folder
    assert not r.ok and "EngineConfig.allowed_roots" in r.text and "Traceback" not in r.text


def test_importing_the_magics_is_cheap():
    code = (
        "import sys, glue_jupyter, glue_jupyter.magics, glue_jupyter.kernel_context;"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('acp', 'tornado', 'anywidget', 'ipywidgets',"
        " 'pandas', 'numpy', 'polars')"
        " or m.startswith(('glue_jupyter.engine', 'glue_jupyter.server', 'glue_jupyter.agents'))];"
        "print(heavy); assert not heavy"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_terminal_user_answers_permission_requests(terminal, tmp_path):
    """In a terminal there are no buttons: following stops at the request, %glue allow answers it."""
    r = terminal._run(f"%glue start --agent demo --cwd {tmp_path} write from-terminal.md")
    assert r.ok and "%glue allow" in r.stdout, r.text
    r = terminal._run("%glue allow")
    assert r.ok and "allowed" in r.stdout, r.text
    terminal.magics.client.wait(terminal.magics.current, "idle", timeout=30)
    assert (tmp_path / "from-terminal.md").exists()
    r = terminal._run("%glue deny")
    assert not r.ok and "no permission request" in r.text


async def test_snapshots_of_one_session_are_kept_fresh_by_one_thread(nb, glue_client, jp_root_dir):
    """However many outputs show a session, one thread (one stream to the server) keeps their
    snapshots fresh; its last widget closed, it ends."""
    import threading

    await nb.run(f"%glue start --agent demo --cwd {jp_root_dir} quick")
    sid = nb.magics.current
    for _ in range(3):
        r = await nb.run(f"%glue show {sid[:8]}")
        assert r.ok, r.text

    def keepers():
        return [t for t in threading.enumerate() if t.name == f"glue-snapshot-{sid[:8]}" and t.is_alive()]

    (keeper,) = keepers()
    assert len(keeper.display_ids) == 4  # the start's output and three shows
    for widget in set(keeper.display_ids.values()):
        widget.close()
    keeper.join(timeout=10)
    assert not keeper.is_alive()
