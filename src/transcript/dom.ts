/** Tiny DOM helpers (no framework). */
import { ICONS, IconName } from './icons';

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

/**
 * "just now", "5 min ago", "2 h ago", "yesterday", "3 days ago", or the date (YYYY-MM-DD). The
 * terminal lists use the same words (glue_jupyter/client/listing.py `ago`).
 */
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
  const d0 = new Date(ts * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d0.getFullYear()}-${pad(d0.getMonth() + 1)}-${pad(d0.getDate())}`;
}

/** The time of day ("14:05"), with the date in front when it is not today ("Nov 3, 14:05"). */
export function clockTime(ts: number, now = Date.now() / 1000): string {
  const d = new Date(ts * 1000);
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (new Date(now * 1000).toDateString() === d.toDateString()) {
    return time;
  }
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })}, ${time}`;
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

/** An element holding one of our SVG icons. */
export function icon(name: IconName, cls = 'jp-GlueIcon'): HTMLElement {
  const span = h('span', { class: cls, 'aria-hidden': 'true' });
  span.innerHTML = ICONS[name];
  return span;
}

/** A small icon button (label as tooltip and for screen readers), like JupyterLab's toolbar's. */
export function iconButton(name: IconName, title: string, cls = ''): HTMLButtonElement {
  const b = h('button', { type: 'button', class: `jp-GlueIconButton ${cls}`.trim(), title, 'aria-label': title });
  b.appendChild(icon(name));
  return b;
}

/** Copy text to the clipboard (the async API where the page allows it, else a selection). */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      /* not allowed (e.g. no user activation): fall back */
    }
  }
  const area = h('textarea', { 'aria-hidden': 'true' });
  area.value = text;
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  try {
    if (!document.execCommand('copy')) {
      throw new Error('The browser refused to copy.');
    }
  } finally {
    area.remove();
  }
}

/** A copy button: copies `text()` on click and says so for a moment. */
export function copyButton(text: () => string, title = 'Copy'): HTMLButtonElement {
  const b = iconButton('copy', title, 'jp-GlueCopy');
  b.addEventListener('click', async ev => {
    ev.stopPropagation();
    ev.preventDefault();
    try {
      await copyText(text());
      b.replaceChildren(icon('check'));
      b.classList.add('jp-mod-done');
      b.title = 'Copied';
    } catch (err) {
      b.title = `Could not copy: ${(err as Error).message}`;
    }
    setTimeout(() => {
      b.replaceChildren(icon('copy'));
      b.classList.remove('jp-mod-done');
      b.title = title;
    }, 1500);
  });
  return b;
}
