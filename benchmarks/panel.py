"""Front-end benchmark: the JupyterLab side panel and transcript view, in headless Chromium.

    .venv/bin/python benchmarks/panel.py [--sessions 1000] [--events 10000]

Writes N stopped sessions (and one with a long transcript) into a fresh sessions database
through the engine's Store, starts a real `jupyter lab` on it (the same launcher as the
browser tests), opens it in Debian's /usr/bin/chromium and prints, measured in the page:
- panel first render: JupyterLab started -> all N rows in the list;
- a search keystroke: key pressed -> next frame painted (is typing blocked?), and
  key pressed -> the filtered list is shown (debounce + server full-text search + render);
- transcript first screen: click on the long session -> its last item is on screen;
- transcript scrolling: frame times while scrolling to the top by mouse wheel.

Reference, measured in the same run against the same `jupyter lab` and browser: JupyterLab's
own file browser on a folder of 1,000 files (`many-files/` in the lab's root dir; names
`<word>-<nnnn>[-<prefix of the needle>].md`, so each keystroke of the needle narrows the list
and only its last one leaves a single file), with its "Filter files by name" box shown
(`showFileFilter` in the user settings; default fuzzy filter):
- first render: page load of `lab/tree/many-files` -> all 1,000 rows in the listing (the
  DirListing does not window its rows: it creates one <li> per item), timed like the panel's,
  from navigation start and from JupyterLab's `started`;
- a filter keystroke: key pressed -> next frame painted, and last key pressed -> the listing
  shows only the one matching file (each keystroke re-lists the folder from the server).
A warm-up page load comes first, so that both measured page loads meet a warm server; each
measured page has a fresh browser context (cold HTTP cache). A summary table prints our
figure, the reference's and the ratio ours / reference (> 1: we are slower).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ui"))

from conftest import CHROMIUM, CHROMIUM_ARGS, start_lab, stop_lab  # noqa: E402
from glue_jupyter.engine.store import Store  # noqa: E402

WORDS = ("refactor loader parser tests docs cache plot api cli widget schema build lint "
         "types config logging retry upload export notebook kernel").split()
NEEDLE = "quetzal"  # one word, in exactly one transcript (and, in full, in one file name)
FILES_DIR = "many-files"


def session_row(i: int, now: float, cwd: str, **over) -> dict:
    row = {
        "id": uuid.uuid4().hex, "title": f"{random.choice(WORDS).title()} the {random.choice(WORDS)} #{i}",
        "agent": random.choice(["demo", "claude", "codex", "gemini"]),
        "cwd": f"{cwd}/project-{i % 17}", "state": random.choice(["stopped"] * 6 + ["failed"]),
        "created_at": now - 86400 * 3 + i * 60, "updated_at": now - i * 37.0, "paused_since": None,
        "last_seq": 0, "exit_code": 0, "resumed_via": None, "agent_session_id": None, "turns": 1,
        "error": None,
    }
    row.update(over)
    return row


def turn_events(turn: int, seq: int, ts: float, text: str) -> list[dict]:
    evs = [("turn_start", {"turn": turn}), ("user_message", {"text": f"prompt {turn}: {text}"})]
    evs += [("agent_message_chunk", {"text": f"Chunk {k} of the reply to turn {turn}, with `code` and *emphasis*. "})
            for k in range(5)]
    tc = f"t{turn}"
    evs += [("tool_call", {"tool_call_id": tc, "title": f"read file{turn}.py", "kind": "read", "status": "in_progress",
                           "content": [], "locations": [{"path": f"file{turn}.py"}], "raw_input": {"path": f"file{turn}.py"}}),
            ("tool_call_update", {"tool_call_id": tc, "status": "completed",
                                  "content": [{"type": "text", "text": f"contents of file{turn}.py\n" * 3}]}),
            ("turn_end", {"turn": turn, "stop_reason": "end_turn", "files": [f"file{turn}.py"]})]
    return [{"seq": seq + k, "ts": ts + k * 0.01, "kind": kind, "turn": turn, "data": data}
            for k, (kind, data) in enumerate(evs)]


def prepare(db: Path, root: Path, n_sessions: int, n_events: int) -> tuple[str, str]:
    random.seed(7)
    now = time.time()
    store = Store(db)
    needle_id = ""
    for i in range(n_sessions):
        row = session_row(i, now, str(root))
        events = turn_events(1, 1, row["created_at"], f"{random.choice(WORDS)} {random.choice(WORDS)}"
                             + (f" {NEEDLE}" if i == n_sessions // 2 else ""))
        row["last_seq"] = events[-1]["seq"]
        store.insert_session(row)
        store.append_events(row["id"], events, row["updated_at"])
        store.index_text(row["id"], "user", events[1]["data"]["text"])
        if i == n_sessions // 2:
            needle_id = row["id"]
    long = session_row(n_sessions, now, str(root), title="A long transcript", updated_at=now + 10)
    store.insert_session(long)
    seq, turn, batch = 1, 1, []
    while seq <= n_events:
        evs = turn_events(turn, seq, long["created_at"] + turn, "long")
        batch += evs
        seq += len(evs)
        turn += 1
        if len(batch) > 2000:
            store.append_events(long["id"], batch, long["updated_at"])
            batch = []
    if batch:
        store.append_events(long["id"], batch, long["updated_at"])
    store.close()
    return needle_id, long["id"]


def prepare_files(root: Path, n_files: int) -> str:
    """`n_files` files in root/FILES_DIR; return the one whose name holds the whole NEEDLE.

    WORDS hold no 'q', so with JupyterLab's (default) fuzzy filter the needle's k-letter prefix
    matches exactly the files named with a prefix of length >= k: typing it narrows the list
    key by key (1000 -> ~860 -> ... -> ~140 -> 1), and only the last key leaves one file.
    """
    rng = random.Random(11)
    folder = root / FILES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_files - 1):
        k = i % len(NEEDLE)
        (folder / f"{rng.choice(WORDS)}-{i:04d}{'-' + NEEDLE[:k] if k else ''}.md").write_text(f"# file {i}\n")
    target = f"{rng.choice(WORDS)}-{n_files - 1:04d}-{NEEDLE}.md"
    (folder / target).write_text("# the one\n")
    return target


def show_file_filter(tmp: Path) -> None:
    """User setting (in start_lab's JUPYTER_CONFIG_DIR): show the file browser's filter box."""
    d = tmp / "config" / "lab" / "user-settings" / "@jupyterlab" / "filebrowser-extension"
    d.mkdir(parents=True, exist_ok=True)
    (d / "browser.jupyterlab-settings").write_text(json.dumps({"showFileFilter": True}))


# Init script: performance.now() when JupyterLab's `started` resolves. index.js assigns
# window.jupyterapp right after calling app.start(), so a setter catches it without polling.
MARK_STARTED = """(() => {
  let app;
  Object.defineProperty(window, 'jupyterapp', {
    configurable: true, get: () => app,
    set: (v) => { app = v; v.started.then(() => { window.__labStarted = performance.now(); }); }
  });
})()"""

FB_ITEMS = ".jp-FileBrowser .jp-DirListing-content > .jp-DirListing-item"
FB_INPUT = ".jp-FileBrowser .jp-FileBrowser-filterBox input"
PANEL_ITEMS = "#glue-sessions-panel .jp-GlueSessionList-item"
PANEL_INPUT = "#glue-sessions-panel input.jp-GlueSessionsPanel-search"

# The file browser's listing is complete when it holds n rows, all of the folder (the <li> of a
# row carries "Path: <folder>" in its title once filled in), and a frame has been painted.
WAIT_FILES = """async ({n, dir}) => {
  const sel = '%s';
  const done = () => {
    const items = document.querySelectorAll(sel);
    return items.length === n && items[0].title.includes(`Path: ${dir}\n`)
      && items[n - 1].title.includes(`Path: ${dir}\n`) && items[n - 1].textContent.length > 0;
  };
  while (!done()) {
    await new Promise(r => requestAnimationFrame(r));
  }
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  return {rows_ms: performance.now(), started_ms: window.__labStarted ?? null};
}""" % FB_ITEMS

WAIT_ROWS = """async (n) => {
  const t0 = performance.now();
  await window.jupyterapp.started;
  const started = performance.now();
  while (document.querySelectorAll('#glue-sessions-panel .jp-GlueSessionList-item').length < n) {
    await new Promise(r => requestAnimationFrame(r));
  }
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  return {started_ms: started, rows_ms: performance.now(), waited_ms: performance.now() - t0,
          lab_started_ms: window.__labStarted ?? null};
}"""

# Arms a probe on a search box: for every keydown, the time to the next painted frame; and,
# once the box holds the whole needle, the time from the last keydown until the list shows
# exactly one row (containing `name`, if given). Resolves window.__glueTyping.
ARM_TYPING = """({input: inputSel, rows: rowSel, minLen, name}) => {
  const input = document.querySelector(inputSel);
  const paints = [];
  let first = null;
  let lastKey = null;
  const onKey = () => {
    const t0 = performance.now();
    if (first === null) first = t0;
    lastKey = t0;
    requestAnimationFrame(() => setTimeout(() => paints.push(performance.now() - t0), 0));
  };
  input.addEventListener('keydown', onKey);
  window.__glueTyping = new Promise((resolve, reject) => {
    const t0 = performance.now();
    const check = () => {
      const rows = document.querySelectorAll(rowSel);
      if (performance.now() - t0 > 20000) {
        input.removeEventListener('keydown', onKey);
        reject(new Error(`search never narrowed to one row: ${input.value} -> ${rows.length}`));
        return;
      }
      if (first !== null && rows.length === 1 && input.value.length >= minLen
          && (!name || rows[0].textContent.includes(name))) {
        const now = performance.now();
        input.removeEventListener('keydown', onKey);
        resolve({paints, last_key_to_results_ms: now - lastKey, first_key_to_results_ms: now - first});
      } else { requestAnimationFrame(check); }
    };
    check();
  });
}"""


OPEN_LONG = """async (id) => {
  const row = document.querySelector(`#glue-sessions-panel .jp-GlueSessionList-item[data-session-id="${id}"]`);
  const t0 = performance.now();
  row.click();
  for (;;) {
    const view = document.querySelector(`.jp-GlueSessionView[data-session-id="${id}"]`);
    const last = view && view.querySelector('.jp-GlueItem-turn_end:last-child');
    if (last && last.textContent.includes('Turn') && view.querySelectorAll('.jp-GlueItem').length > 0
        && view.querySelector('.jp-GlueTranscript').scrollTop > 0) {
      const r = last.getBoundingClientRect();
      if (r.height > 0) break;
    }
    await new Promise(r => requestAnimationFrame(r));
  }
  const view = document.querySelector(`.jp-GlueSessionView[data-session-id="${id}"]`);
  return {first_screen_ms: performance.now() - t0,
          rendered_items: view.querySelectorAll('.jp-GlueItem').length};
}"""

SCROLL = """async (id) => {
  const el = document.querySelector(`.jp-GlueSessionView[data-session-id="${id}"] .jp-GlueTranscript`);
  const frames = [];
  let last = performance.now();
  let going = true;
  const tick = (t) => { frames.push(t - last); last = t; if (going) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  const t0 = performance.now();
  let steps = 0;
  while (performance.now() - t0 < 3000) {
    el.dispatchEvent(new WheelEvent('wheel', {deltaY: -400, bubbles: true}));
    el.scrollTop -= 400;
    steps++;
    await new Promise(r => requestAnimationFrame(r));
  }
  going = false;
  return {frames, steps, rendered_items: el.querySelectorAll('.jp-GlueItem').length};
}"""


def type_needle(page, input_sel: str, rows_sel: str, n_all: int, name: str | None, runs: int = 5) -> list[dict]:
    """Type NEEDLE at 60 ms/key into a search box `runs` times, from an empty box showing all rows."""
    box = page.locator(input_sel)
    out = []
    for _ in range(runs):
        box.fill("")
        page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length >= n", arg=[rows_sel, n_all])
        page.evaluate(ARM_TYPING, {"input": input_sel, "rows": rows_sel, "minLen": len(NEEDLE), "name": name})
        box.press_sequentially(NEEDLE, delay=60)
        out.append(page.evaluate("() => window.__glueTyping"))
    return out


def typing_figures(runs: list[dict]) -> dict[str, float]:
    paints = [p for r in runs for p in r["paints"]]
    last = [r["last_key_to_results_ms"] for r in runs]
    return {"paint_median": statistics.median(paints), "paint_max": max(paints),
            "shown_median": statistics.median(last), "shown_max": max(last)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--files", type=int, default=1000, help="files in the reference folder")
    args = parser.parse_args()
    from jupyterlab import __version__ as lab_version
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="glue-bench-panel-"))
    ids: dict[str, str] = {}

    def _prepare(db: Path) -> None:
        ids["needle"], ids["long"] = prepare(db, tmp / "root", args.sessions, args.events)
        ids["file"] = prepare_files(tmp / "root", args.files)
        show_file_filter(tmp)

    t = time.monotonic()
    server = start_lab(tmp, prepare=_prepare)
    print(f"setup: {args.sessions} sessions + one of {args.events} events, {args.files} files in "
          f"{FILES_DIR}/ written and server up in {time.monotonic() - t:.1f} s")
    n_rows = args.sessions + 1
    viewport = {"width": 1400, "height": 900}
    ours: dict[str, float] = {}
    ref: dict[str, float] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

            # Warm-up load (not measured): the server's first-request costs hit neither page below.
            warm = browser.new_page(viewport=viewport)
            warm.add_init_script(MARK_STARTED)
            warm.goto(server.lab_url("lab?reset"))
            warm.wait_for_function("() => window.__labStarted !== undefined", timeout=60_000)
            warm.context.close()

            page = browser.new_page(viewport=viewport)
            page.add_init_script(MARK_STARTED)
            page.goto(server.lab_url("lab?reset"))
            page.locator('.jp-SideBar .lm-TabBar-tab[data-id="glue-sessions-panel"]').click()
            rows = page.evaluate(WAIT_ROWS, n_rows)
            ours["first_nav"] = rows["rows_ms"]
            ours["first_started"] = rows["rows_ms"] - rows["lab_started_ms"]
            print(f"panel first render, {n_rows} rows on screen: {rows['rows_ms']:.0f} ms after "
                  f"navigation start (JupyterLab's own start-up included), {ours['first_started']:.0f} ms "
                  "after JupyterLab's `started`")
            render = page.evaluate(
                "() => performance.getEntriesByName('glue-panel-render').map(e => [e.duration, e.detail])")
            first_full = next((d for d, n in render if n and n >= n_rows), None)
            print(f"panel render of all {n_rows} rows (build + insert, in the page): "
                  f"{first_full:.1f} ms; later renders median "
                  f"{statistics.median([d for d, _ in render] or [0]):.1f} ms over {len(render)}")
            runs = type_needle(page, PANEL_INPUT, PANEL_ITEMS, n_rows, None)
            found = page.locator(PANEL_ITEMS).get_attribute("data-session-id")
            assert found == ids["needle"], (found, ids["needle"])
            ours.update(typing_figures(runs))
            print(f"search as you type '{NEEDLE}' (60 ms/key) in {n_rows} sessions, 5 runs: "
                  f"keystroke to next paint median {ours['paint_median']:.0f} ms, max {ours['paint_max']:.0f} ms; "
                  f"last keystroke to the one matching session shown median {ours['shown_median']:.0f} ms, "
                  f"max {ours['shown_max']:.0f} ms (includes the 120 ms debounce)")
            page.locator(PANEL_INPUT).fill("")
            page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length >= n",
                                   arg=[PANEL_ITEMS, n_rows])
            opened = page.evaluate(OPEN_LONG, ids["long"])
            print(f"transcript of {args.events} events: first screen {opened['first_screen_ms']:.0f} ms "
                  f"after the click ({opened['rendered_items']} items in the DOM)")
            scroll = page.evaluate(SCROLL, ids["long"])
            frames = sorted(scroll["frames"][1:])
            p95 = frames[int(len(frames) * 0.95) - 1] if frames else 0
            print(f"transcript scrolling up for 3 s: {len(frames)} frames, median {statistics.median(frames):.1f} ms, "
                  f"p95 {p95:.1f} ms, max {max(frames):.1f} ms; {scroll['rendered_items']} items in the DOM after")
            page.context.close()

            # Reference: JupyterLab's own file browser, same lab, same browser, a fresh context.
            fb = browser.new_page(viewport=viewport)
            fb.add_init_script(MARK_STARTED)
            fb.goto(server.lab_url(f"lab/tree/{FILES_DIR}?reset"))
            listed = fb.evaluate(WAIT_FILES, {"n": args.files, "dir": FILES_DIR})
            ref["first_nav"] = listed["rows_ms"]
            ref["first_started"] = listed["rows_ms"] - listed["started_ms"]
            print(f"reference: file browser first render, {args.files} files listed: {listed['rows_ms']:.0f} ms "
                  f"after navigation start (lab/tree/{FILES_DIR}), {ref['first_started']:.0f} ms after `started`")
            hidden = fb.evaluate(
                "() => performance.getEntriesByName('glue-panel-render').map(e => [e.duration, e.detail])")
            if hidden:
                print(f"  (that page also ran our extension: the hidden panel rendered {max(n or 0 for _, n in hidden)} "
                      f"rows in {sum(d for d, _ in hidden):.0f} ms over {len(hidden)} renders)")
            fb.locator(FB_INPUT).wait_for(state="visible")
            runs = type_needle(fb, FB_INPUT, FB_ITEMS, args.files, ids["file"])
            ref.update(typing_figures(runs))
            print(f"reference: file browser filter, typing '{NEEDLE}' (60 ms/key) in {args.files} files, 5 runs: "
                  f"keystroke to next paint median {ref['paint_median']:.0f} ms, max {ref['paint_max']:.0f} ms; "
                  f"last keystroke to the one matching file shown median {ref['shown_median']:.0f} ms, "
                  f"max {ref['shown_max']:.0f} ms (no debounce; each keystroke re-lists the folder)")
            fb.context.close()
            browser.close()
    finally:
        stop_lab(server)

    rows_label = f"{n_rows:,} rows"
    files_label = f"{args.files:,} files"
    table = [
        (f"panel first render, {rows_label}, from page load", "first_nav",
         f"file browser first render, {files_label}, from page load"),
        (f"panel first render, {rows_label}, from lab started", "first_started",
         f"file browser first render, {files_label}, from lab started"),
        ("search keystroke -> next paint, median", "paint_median", "filter keystroke -> next paint, median"),
        ("search keystroke -> next paint, max", "paint_max", "filter keystroke -> next paint, max"),
        ("search last key -> 1 match shown, median", "shown_median", "filter last key -> 1 match shown, median"),
        ("search last key -> 1 match shown, max", "shown_max", "filter last key -> 1 match shown, max"),
    ]
    print(f"\ncomparison (same run, same lab and browser) with JupyterLab {lab_version}'s file browser "
          f"on {FILES_DIR}/; ratio = ours / reference, > 1 means ours is slower:")
    w1 = max(len(a) for a, _, _ in table)
    w2 = max(len(c) for _, _, c in table)
    for a, key, c in table:
        ratio = f"{ours[key] / ref[key]:.2f}" if ref[key] > 0 else "n/a"
        print(f"  {a:<{w1}} {ours[key]:6.0f} ms   | {c:<{w2}} {ref[key]:6.0f} ms   ratio {ratio}")
    print(json.dumps({"ok": True, "ours_ms": {k: round(v, 1) for k, v in ours.items()},
                      "reference_ms": {k: round(v, 1) for k, v in ref.items()}}))


if __name__ == "__main__":
    main()
