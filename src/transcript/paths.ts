/**
 * File paths in transcripts: recognise them in agent text, resolve them against the session's
 * folder and the server's root, and show folders the same way everywhere (the panel's rows,
 * the session header).
 */

export interface IPathRef {
  path: string;
  /** 1-based line, when the text named one (`utils.py:42`). */
  line?: number;
}

// A path-like token: no spaces, at least one letter, either a folder separator or a file
// extension; optionally `:line` or `:line:column`. Inline code like `echo` or `x = 1` is not one.
const PATH_RE = /^(~?[\w.@+-]*(?:\/[\w.@+-]+)+\/?|[\w@+-][\w.@+-]*\.[A-Za-z][\w]{0,9})(?::(\d+)(?::\d+)?)?$/;

/** The path (and line) `text` names, or null when it does not look like a path. */
export function pathIn(text: string): IPathRef | null {
  const t = text.trim();
  if (t.length > 300 || /^[a-z][\w+.-]*:\/\//i.test(t)) {
    return null; // URLs are links already
  }
  const m = PATH_RE.exec(t);
  if (!m || !/[A-Za-z]/.test(m[1]) || /^\.+$/.test(m[1])) {
    return null;
  }
  return m[2] ? { path: m[1], line: Number(m[2]) } : { path: m[1] };
}

function normalise(parts: string[]): string[] | null {
  const out: string[] = [];
  for (const p of parts) {
    if (!p || p === '.') {
      continue;
    }
    if (p === '..') {
      if (!out.length) {
        return null;
      }
      out.pop();
    } else {
      out.push(p);
    }
  }
  return out;
}

/**
 * `path` (absolute, or relative to `cwd`) as a path relative to the server root `root`
 * ('' for the root itself); null when it lies outside the root.
 */
export function relativeToRoot(path: string, cwd: string, root: string): string | null {
  const absolute = path.startsWith('/') ? path : `${cwd.replace(/\/+$/, '')}/${path}`;
  const abs = normalise(absolute.split('/'));
  const base = normalise(root.split('/'));
  if (!abs || !base || abs.length < base.length || base.some((p, i) => abs[i] !== p)) {
    return null;
  }
  return abs.slice(base.length).join('/');
}

/**
 * A session's folder as the panel and the header show it: relative to the server's root with a
 * leading slash, as JupyterLab's file browser names folders ("/" is the root itself); the
 * absolute path when it lies outside the root (or the root is unknown).
 */
export function displayFolder(cwd: string, root?: string): string {
  if (root) {
    const rel = relativeToRoot(cwd, '/', root);
    if (rel !== null) {
      return `/${rel}`;
    }
  }
  return cwd;
}

/** How a path reads in a transcript: relative to the session's folder when inside it. */
export function shownPath(path: string, cwd: string): string {
  if (!path.startsWith('/') || !cwd) {
    return path;
  }
  const rel = relativeToRoot(path, '/', cwd);
  if (rel === null) {
    return path;
  }
  // The folder itself: by its name (a bare "." reads as noise).
  return rel || `${cwd.replace(/\/+$/, '').split('/').pop() || '/'}/`;
}
