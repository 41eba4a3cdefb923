/**
 * Paths between the agent's world (absolute, or relative to a session's cwd) and
 * JupyterLab's (relative to the server root).
 */

/** `path` made absolute against `cwd` (POSIX paths, as the server reports them). */
export function absolute(path: string, cwd: string): string {
  if (path.startsWith('/')) {
    return normalize(path);
  }
  return normalize(`${cwd.replace(/\/+$/, '')}/${path}`);
}

/** The path relative to `root`, or null when it is outside it. */
export function relativeToRoot(abs: string, root: string): string | null {
  const r = normalize(root).replace(/\/+$/, '');
  const p = normalize(abs);
  if (p === r) {
    return '';
  }
  return p.startsWith(`${r}/`) ? p.slice(r.length + 1) : null;
}

function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') {
      continue;
    }
    if (part === '..') {
      out.pop();
    } else {
      out.push(part);
    }
  }
  return `/${out.join('/')}`;
}

export function basename(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? path;
}
