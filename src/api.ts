/**
 * Every request of the JupyterLab extension goes through @jupyterlab/services'
 * ServerConnection (base URL, token, XSRF handled the way JupyterLab does it).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { GlueAPI, IRequestInit, ITransport } from './client';

export * from './client';

export class LabTransport implements ITransport {
  constructor(readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  request(path: string, init: IRequestInit = {}): Promise<Response> {
    const url = URLExt.join(this.settings.baseUrl, path);
    // 'no-cache' (always revalidate) rather than ServerConnection's default 'no-store', which
    // appends a bare `?<timestamp>` cache buster that strict routes reject as an unknown parameter.
    const requestInit: RequestInit = { method: init.method ?? 'GET', cache: 'no-cache' };
    if (init.body !== undefined) {
      requestInit.body = JSON.stringify(init.body);
      requestInit.headers = { 'Content-Type': 'application/json' };
    }
    return ServerConnection.makeRequest(url, requestInit, this.settings);
  }

  websocket(path: string): WebSocket {
    let url = URLExt.join(this.settings.wsUrl, path);
    const token = this.settings.token;
    if (this.settings.appendToken && token) {
      url += (url.includes('?') ? '&' : '?') + `token=${encodeURIComponent(token)}`;
    }
    return new this.settings.WebSocket(url);
  }
}

/** The API client of the lab extension. */
export function createLabAPI(settings?: ServerConnection.ISettings): GlueAPI {
  return new GlueAPI(new LabTransport(settings));
}
