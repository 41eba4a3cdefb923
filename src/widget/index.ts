/**
 * The notebook widget's front end (anywidget). Built by esbuild into
 * glue_jupyter/static/widget.js — no @jupyterlab imports, so it runs in any page.
 *
 * It talks to the Jupyter server's HTTP/WebSocket routes directly with the page's own
 * authentication, so it keeps streaming and its buttons keep working while the kernel is
 * busy, dead or restarting. Traits read: `session_id`, `server_url` (empty = the page's own
 * server). A `server_url` naming another server gets none of the page's credentials: the
 * widget asks the user for that server's token first (other-server.ts).
 */
import { GlueAPI } from '../client';
import { SessionView } from '../transcript/session-view';
import { otherServerPanel, tokenFor } from './other-server';
import { PageTransport, resolveServerUrl } from './transport';

declare const __GLUE_CSS__: string;

interface IAnyModel {
  get(name: string): any;
  on(event: string, cb: () => void): void;
  off(event: string, cb: () => void): void;
}

const STYLE_ID = 'glue-jupyter-widget-style';

function injectStyle(): void {
  if (typeof __GLUE_CSS__ === 'undefined' || document.getElementById(STYLE_ID)) {
    return;
  }
  const style = document.createElement('style');
  style.id = STYLE_ID;
  style.textContent = __GLUE_CSS__;
  document.head.appendChild(style);
}

function render({ model, el }: { model: IAnyModel; el: HTMLElement }): () => void {
  injectStyle();
  el.classList.add('jp-GlueWidget');
  let view: SessionView | null = null;

  const mount = () => {
    view?.dispose();
    view = null;
    el.textContent = '';
    const id = String(model.get('session_id') || '');
    if (!id) {
      const p = document.createElement('div');
      p.className = 'jp-GlueTranscript-empty';
      p.textContent = 'No session.';
      el.appendChild(p);
      return;
    }
    const serverUrl = String(model.get('server_url') || '');
    const transport = new PageTransport(serverUrl, tokenFor(resolveServerUrl(serverUrl)));
    if (!transport.hasCredentials) {
      el.appendChild(otherServerPanel(transport.baseUrl, id, show));
      return;
    }
    show(transport);
  };
  const show = (transport: PageTransport) => {
    el.textContent = '';
    const id = String(model.get('session_id') || '');
    view = new SessionView({ api: new GlueAPI(transport), sessionId: id, compact: true, isolateKeys: true });
    // In JupyterLab its code blocks get the lab's actions too (insert below this cell): the
    // view asks the page for the lab's transcript host (transcript/host.ts).
    el.appendChild(view.node);
  };

  mount();
  model.on('change:session_id', mount);
  model.on('change:server_url', mount);
  return () => {
    model.off('change:session_id', mount);
    model.off('change:server_url', mount);
    view?.dispose();
    view = null;
  };
}

export default { render };
