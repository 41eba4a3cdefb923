/**
 * A transport for any page that hosts a Jupyter server's front end (JupyterLab, Notebook 7, …)
 * — no @jupyterlab imports. Base URL and token come from the page's `#jupyter-config-data`
 * (PageConfig), XSRF from the `_xsrf` cookie.
 *
 * The page's credentials are for the page's own server only. A widget whose `server_url` names
 * another server (written by a kernel, or restored from a shared notebook's widget state) gets
 * none of them: no token, no cookie, no XSRF header. It talks to that server only with a token
 * the user typed for it (`otherToken`), kept in memory by the caller, never in the notebook.
 *
 * WebSockets on the page's own server authenticate with the page's login cookie, as
 * JupyterLab's do (and the server checks their Origin); the token goes in the URL only when
 * the page says so (`appendToken`) or the socket is on another host, as JupyterLab decides.
 */
import type { IRequestInit, ITransport } from '../client';

interface IPageConfig {
  baseUrl?: string;
  wsUrl?: string;
  token?: string;
  appendToken?: string;
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
  // The last match, as tornado reads duplicates (JupyterLab does the same).
  let value: string | undefined;
  for (const part of doc.cookie.split(';')) {
    const trimmed = part.trim();
    if (trimmed.startsWith(name + '=')) {
      value = decodeURIComponent(trimmed.slice(name.length + 1));
    }
  }
  return value;
}

function join(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}

/** The page's own server: its base URL, absolute, ending in "/". */
export function pageServerUrl(config: IPageConfig = readPageConfig()): string {
  return withSlash(new URL(config.baseUrl || '/', window.location.href).href);
}

/** `serverUrl` made absolute and ending in "/"; empty means the page's own server. */
export function resolveServerUrl(serverUrl: string, config: IPageConfig = readPageConfig()): string {
  return serverUrl ? withSlash(new URL(serverUrl, window.location.href).href) : pageServerUrl(config);
}

export class PageTransport implements ITransport {
  /** The server's base URL, absolute, ending in "/". */
  readonly baseUrl: string;
  readonly wsBase: string;
  /** Whether this is the page's own server, the only one the page's credentials are sent to. */
  readonly isPageServer: boolean;
  private readonly token: string;
  private readonly tokenInUrl: boolean;

  /**
   * `serverUrl`: the Jupyter server's base URL; empty means the page's own server.
   * `otherToken`: for another server only, a token the user gave for that server.
   */
  constructor(serverUrl = '', otherToken = '') {
    const config = readPageConfig();
    this.baseUrl = resolveServerUrl(serverUrl, config);
    this.isPageServer = this.baseUrl === pageServerUrl(config);
    let ws = this.isPageServer && config.wsUrl ? new URL(config.wsUrl, window.location.href).href : this.baseUrl;
    ws = withSlash(ws.replace(/^http/, 'ws'));
    this.wsBase = ws;
    if (this.isPageServer) {
      this.token = config.token ?? '';
      const append = (config.appendToken ?? '').toLowerCase();
      this.tokenInUrl = append ? append === 'true' : new URL(ws).host !== new URL(this.baseUrl).host;
    } else {
      this.token = otherToken;
      this.tokenInUrl = true; // a cross-origin socket carries no cookie: the URL is the only way
    }
  }

  /** Whether requests will carry credentials at all (false: another server, no token given). */
  get hasCredentials(): boolean {
    return this.isPageServer || !!this.token;
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
    const xsrf = this.isPageServer ? getCookie('_xsrf') : undefined;
    if (xsrf && method !== 'GET') {
      headers['X-XSRFToken'] = xsrf;
    }
    return fetch(join(this.baseUrl, path), {
      method,
      headers,
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      credentials: this.isPageServer ? 'same-origin' : 'omit',
      cache: 'no-store'
    });
  }

  websocket(path: string): WebSocket {
    let url = join(this.wsBase, path);
    if (this.token && this.tokenInUrl) {
      url += (url.includes('?') ? '&' : '?') + `token=${encodeURIComponent(this.token)}`;
    }
    return new WebSocket(url);
  }
}
