/** Tiny DOM helpers (no framework). */

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | null | undefined> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) {
      continue;
    }
    if (k === 'class') {
      el.className = String(v);
    } else if (k === 'text') {
      el.textContent = String(v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) {
      continue;
    }
    el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** "3 s", "4 min", "2 h 5 min", "3 d". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) {
    return `${s} s`;
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    return `${m} min ${s % 60} s`;
  }
  const hh = Math.floor(m / 60);
  if (hh < 24) {
    return `${hh} h ${m % 60} min`;
  }
  return `${Math.floor(hh / 24)} d ${hh % 24} h`;
}

/** "just now", "5 min ago", "yesterday", or a date. */
export function timeAgo(ts: number, now = Date.now() / 1000): string {
  const d = Math.max(0, now - ts);
  if (d < 45) {
    return 'just now';
  }
  if (d < 3600) {
    return `${Math.max(1, Math.round(d / 60))} min ago`;
  }
  if (d < 86400) {
    return `${Math.round(d / 3600)} h ago`;
  }
  if (d < 2 * 86400) {
    return 'yesterday';
  }
  if (d < 7 * 86400) {
    return `${Math.round(d / 86400)} days ago`;
  }
  return new Date(ts * 1000).toLocaleDateString();
}

export function formatTime(ts: number): string {
  return new Date(ts * 1000).toLocaleString();
}

/** A long path shortened from the left, keeping its last components: "…/lab0/root". */
export function shortPath(path: string, max = 40): string {
  if (path.length <= max) {
    return path;
  }
  const parts = path.split('/');
  let out = parts.pop() ?? '';
  while (parts.length && out.length + parts[parts.length - 1].length + 1 <= max - 2) {
    out = `${parts.pop()}/${out}`;
  }
  return `…/${out}`;
}
