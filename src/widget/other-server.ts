/**
 * A widget pointed at another Jupyter server than the page's own. The page's credentials are
 * never sent there, so nothing is sent at all until the user gives a token for that server;
 * the token lives in this tab's memory (shared by the widgets of that server), never in the
 * notebook or its widget state.
 */
import { GlueAPI, GlueRequestError } from '../client';
import { h } from '../transcript/dom';
import { PageTransport } from './transport';

/** Server base URL -> the token the user gave for it, for the life of this page. */
const tokens = new Map<string, string>();

export function tokenFor(serverUrl: string): string {
  return tokens.get(serverUrl) ?? '';
}

function describe(url: string): string {
  try {
    const u = new URL(url);
    return u.host + (u.pathname === '/' ? '' : u.pathname);
  } catch {
    return url;
  }
}

/**
 * The panel that explains why the widget does not connect, with a token field. `connected`
 * gets a transport once the token was accepted by that server.
 */
export function otherServerPanel(
  serverUrl: string,
  sessionId: string,
  connected: (transport: PageTransport) => void
): HTMLElement {
  const where = describe(serverUrl);
  const input = h('input', {
    class: 'jp-GlueOtherServer-token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: `Token for ${where}`,
    'aria-label': `Token for the Jupyter server at ${where}`
  });
  const connect = h('button', { type: 'submit', class: 'jp-GlueButton jp-mod-accept jp-GlueOtherServer-connect' }, 'Connect');
  const problem = h('div', { class: 'jp-GlueError jp-GlueOtherServer-problem', role: 'alert' });
  problem.style.display = 'none';
  const form = h('form', { class: 'jp-GlueOtherServer-form' }, input, connect);
  const panel = h(
    'div',
    { class: 'jp-GlueOtherServer', 'data-server-url': serverUrl },
    h('div', { class: 'jp-GlueOtherServer-title' }, 'This session is on another Jupyter server'),
    h(
      'p',
      {},
      `Session ${sessionId.slice(0, 8)} lives on `,
      h('code', { class: 'jp-GlueOtherServer-url', title: serverUrl }, serverUrl),
      '. This page never sends its own credentials to another server, so the widget has not contacted it.'
    ),
    h(
      'p',
      {},
      'To follow the session here, enter a token for that server. It stays in this tab\u2019s memory: ' +
        'it is not saved in the notebook.'
    ),
    form,
    problem
  );

  const say = (text: string) => {
    problem.textContent = text;
    problem.style.display = text ? '' : 'none';
  };
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    const token = input.value.trim();
    if (!token) {
      say(`Enter a token for ${where}.`);
      return;
    }
    connect.disabled = true;
    say('');
    const transport = new PageTransport(serverUrl, token);
    new GlueAPI(transport)
      .info()
      .then(() => {
        tokens.set(transport.baseUrl, token);
        connected(transport);
      })
      .catch(err => {
        const status = err instanceof GlueRequestError ? err.status : 0;
        say(
          status === 403 || status === 401
            ? `${where} refused that token.`
            : status === 0
              ? `Could not reach ${where}. It must be running and allow requests from this page ` +
                `(c.ServerApp.allow_origin = "${window.location.origin}").`
              : `${where} answered: ${(err as Error).message}`
        );
        connect.disabled = false;
      });
  });
  // Typing in the widget must not trigger notebook shortcuts.
  for (const type of ['keydown', 'keyup', 'keypress']) {
    panel.addEventListener(type, ev => ev.stopPropagation());
  }
  panel.setAttribute('data-lm-suppress-shortcuts', 'true');
  return panel;
}
