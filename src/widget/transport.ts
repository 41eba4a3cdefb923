/**
 * A transport for any page that hosts a Jupyter server's front end (JupyterLab,
 * Notebook 7, …) — no @jupyterlab imports. Base URL and token come from the page's
 * `#jupyter-config-data` (PageConfig), XSRF from the `_xsrf` cookie; the token, when the
 * page has one, goes in the Authorization header (and, for WebSockets, which cannot carry
 * headers, in the query the way JupyterLab itself does it).
 */
import type { IRequestInit, ITransport } from '../client';

interface IPageConfig {
  baseUrl?: string;
  wsUrl?: string;
  token?: string;
}

export function readPageConfig(doc: Document = document): IPageConfig {
  const el = doc.getElementById('jupyter-config-data');
  if (!el?.textContent) {
    return {};
  }
  try {
    return JSON.parse(el.textContent) as IPageConfig;
  } catch {
    return {};
  }
}

export function getCookie(name: string, doc: Document = document): string | undefined {
  const m = doc.cookie.match(new RegExp('(?:^|;\\s*)' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '=([^;]*)'));
  return m ? decodeURIComponent(m[1]) : undefined;
}

function join(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}

export class PageTransport implements ITransport {
  readonly baseUrl: string;
  readonly wsBase: string;
  readonly token: string;

  /** `serverUrl`: the Jupyter server's base URL; empty means the page's own server. */
  constructor(serverUrl = '') {
    const config = readPageConfig();
    this.token = config.token ?? '';
    let base = serverUrl || config.baseUrl || '/';
    base = new URL(base, window.location.href).href;
    this.baseUrl = base.endsWith('/') ? base : base + '/';
    let ws = !serverUrl && config.wsUrl ? new URL(config.wsUrl, window.location.href).href : this.baseUrl;
    ws = ws.replace(/^http/, 'ws');
    this.wsBase = ws.endsWith('/') ? ws : ws + '/';
  }

  request(path: string, init: IRequestInit = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    const method = init.method ?? 'GET';
    if (init.body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    if (this.token) {
      headers['Authorization'] = `token ${this.token}`;
    }
    const xsrf = getCookie('_xsrf');
    if (xsrf && method !== 'GET') {
      headers['X-XSRFToken'] = xsrf;
    }
    return fetch(join(this.baseUrl, path), {
      method,
      headers,
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      credentials: 'same-origin',
      cache: 'no-store'
    });
  }

  websocket(path: string): WebSocket {
    let url = join(this.wsBase, path);
    if (this.token) {
      url += (url.includes('?') ? '&' : '?') + `token=${encodeURIComponent(this.token)}`;
    }
    return new WebSocket(url);
  }
}
