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
NEEDLE = "quetzal"  # one word, in exactly one transcript


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


WAIT_ROWS = """async (n) => {
  const t0 = performance.now();
  await window.jupyterapp.started;
  const started = performance.now();
  while (document.querySelectorAll('#glue-sessions-panel .jp-GlueSessionList-item').length < n) {
    await new Promise(r => requestAnimationFrame(r));
  }
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  return {started_ms: started, rows_ms: performance.now(), waited_ms: performance.now() - t0};
}"""

ARM_TYPING = """() => {
  const input = document.querySelector('#glue-sessions-panel input.jp-GlueSessionsPanel-search');
  const paints = [];
  let first = null;
  const onKey = () => {
    const t0 = performance.now();
    if (first === null) first = t0;
    requestAnimationFrame(() => setTimeout(() => paints.push(performance.now() - t0), 0));
  };
  input.addEventListener('keydown', onKey);
  window.__glueTyping = new Promise((resolve, reject) => {
    const t0 = performance.now();
    const check = () => {
      if (performance.now() - t0 > 20000) {
        reject(new Error(`search never narrowed to one row: ${input.value} -> ` +
          document.querySelectorAll('#glue-sessions-panel .jp-GlueSessionList-item').length));
        return;
      }
      const n = document.querySelectorAll('#glue-sessions-panel .jp-GlueSessionList-item').length;
      if (first !== null && n === 1 && input.value.length >= %d) {
        input.removeEventListener('keydown', onKey);
        resolve({paints, last_key_to_results_ms: performance.now() - window.__glueLastKey,
                 first_key_to_results_ms: performance.now() - first});
      } else { requestAnimationFrame(check); }
    };
    check();
  });
  input.addEventListener('keydown', () => (window.__glueLastKey = performance.now()));
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--events", type=int, default=10000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="glue-bench-panel-"))
    ids: dict[str, str] = {}

    def _prepare(db: Path) -> None:
        ids["needle"], ids["long"] = prepare(db, tmp / "root", args.sessions, args.events)

    t = time.monotonic()
    server = start_lab(tmp, prepare=_prepare)
    print(f"setup: {args.sessions} sessions + one of {args.events} events written and server up "
          f"in {time.monotonic() - t:.1f} s")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(server.lab_url("lab?reset"))
            page.locator('.jp-SideBar .lm-TabBar-tab[data-id="glue-sessions-panel"]').click()
            rows = page.evaluate(WAIT_ROWS, args.sessions + 1)
            nav = page.evaluate("() => performance.timing.navigationStart")
            del nav
            print(f"panel first render, {args.sessions + 1} rows on screen: {rows['rows_ms']:.0f} ms after "
                  "navigation start (JupyterLab's own start-up included)")
            render = page.evaluate(
                "() => performance.getEntriesByName('glue-panel-render').map(e => [e.duration, e.detail])")
            first_full = next((d for d, n in render if n and n >= args.sessions + 1), None)
            print(f"panel render of all {args.sessions + 1} rows (build + insert, in the page): "
                  f"{first_full:.1f} ms; later renders median "
                  f"{statistics.median([d for d, _ in render] or [0]):.1f} ms over {len(render)}")
            search = page.locator("#glue-sessions-panel input.jp-GlueSessionsPanel-search")
            runs = []
            for _ in range(5):
                search.fill("")
                page.wait_for_function(
                    "(n) => document.querySelectorAll('#glue-sessions-panel .jp-GlueSessionList-item').length >= n",
                    arg=args.sessions + 1)
                page.evaluate(ARM_TYPING % len(NEEDLE))
                search.press_sequentially(NEEDLE, delay=60)
                runs.append(page.evaluate("() => window.__glueTyping"))
            found = page.locator("#glue-sessions-panel .jp-GlueSessionList-item").get_attribute("data-session-id")
            assert found == ids["needle"], (found, ids["needle"])
            paints = sorted(p for r in runs for p in r["paints"])
            last = sorted(r["last_key_to_results_ms"] for r in runs)
            print(f"search as you type '{NEEDLE}' (60 ms/key) in {args.sessions + 1} sessions, 5 runs: "
                  f"keystroke to next paint median {statistics.median(paints):.0f} ms, max {max(paints):.0f} ms; "
                  f"last keystroke to the one matching session shown median {statistics.median(last):.0f} ms, "
                  f"max {max(last):.0f} ms (includes the 120 ms debounce)")
            search.fill("")
            page.wait_for_function(
                "(n) => document.querySelectorAll('#glue-sessions-panel .jp-GlueSessionList-item').length >= n",
                arg=args.sessions + 1)
            opened = page.evaluate(OPEN_LONG, ids["long"])
            print(f"transcript of {args.events} events: first screen {opened['first_screen_ms']:.0f} ms "
                  f"after the click ({opened['rendered_items']} items in the DOM)")
            scroll = page.evaluate(SCROLL, ids["long"])
            frames = sorted(scroll["frames"][1:])
            p95 = frames[int(len(frames) * 0.95) - 1] if frames else 0
            print(f"transcript scrolling up for 3 s: {len(frames)} frames, median {statistics.median(frames):.1f} ms, "
                  f"p95 {p95:.1f} ms, max {max(frames):.1f} ms; {scroll['rendered_items']} items in the DOM after")
            browser.close()
    finally:
        stop_lab(server)
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    main()
