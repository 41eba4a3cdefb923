/**
 * "Continue a session begun elsewhere": in the new-session form, the chosen agent's own
 * sessions for the chosen folder (ACP session/list — e.g. Claude Code sessions begun in a
 * terminal), each of which can become a glue session that the agent resumes natively. One
 * already adopted opens its glue session instead.
 */
import { GlueAPI } from '../client';
import { h, timeAgo } from '../transcript/dom';
import type { IAgent, IAgentSession, ISession } from '../types';
import type { IStartChoices } from './start-options';

export interface IAdoptListOptions {
  api: GlueAPI;
  agent: () => IAgent | undefined;
  /** The folder, as the form sends it (relative to the server root). */
  folder: () => string;
  /** Mode, model and options picked in the form, to adopt with. */
  choices: () => IStartChoices;
  onAdopted: (session: ISession) => void;
  /** Show a glue session that already adopted the agent's session. */
  onOpen: (sessionId: string) => void;
}

export class AdoptList {
  readonly node: HTMLDetailsElement;
  private readonly list: HTMLElement;
  private loaded: string | null = null; // "agent|folder" the list shows
  private busy = false;

  constructor(private readonly opts: IAdoptListOptions) {
    this.list = h('div', { class: 'jp-GlueAdopt-list', 'aria-live': 'polite' });
    this.node = h(
      'details',
      { class: 'jp-GlueAdopt' },
      h('summary', { class: 'jp-GlueAdopt-summary', text: 'Continue a session begun elsewhere' }),
      this.list
    );
    this.node.addEventListener('toggle', () => {
      if (this.node.open) {
        void this.load();
      }
    });
  }

  /** The agent or folder changed: show it, and load again if the list is open. */
  update(): void {
    const agent = this.opts.agent();
    // Hidden when the agent is known not to list its sessions (capabilities null: not checked yet).
    this.node.style.display = agent?.installed && agent.capabilities?.list !== false ? '' : 'none';
    if (this.node.open && this.key() !== this.loaded) {
      void this.load();
    }
  }

  private key(): string {
    return `${this.opts.agent()?.name ?? ''}|${this.opts.folder()}`;
  }

  private async load(): Promise<void> {
    const agent = this.opts.agent();
    if (!agent || this.busy) {
      return;
    }
    const key = this.key();
    const folder = this.opts.folder();
    this.loaded = key;
    this.list.textContent = '';
    this.list.appendChild(
      h('div', { class: 'jp-GlueAdopt-status', text: `Asking ${agent.title || agent.name} for its sessions in ${folder === '.' ? 'the server root' : folder}…` })
    );
    let sessions: IAgentSession[];
    try {
      sessions = await this.opts.api.agentSessions(agent.name, folder);
    } catch (err) {
      if (this.loaded === key) {
        this.show((err as Error).message, 'error');
      }
      return;
    }
    if (this.loaded !== key) {
      return; // the agent or folder changed meanwhile: that answer is on its way
    }
    this.list.textContent = '';
    if (!sessions.length) {
      this.show(`${agent.title || agent.name} has no sessions of its own in this folder.`);
      return;
    }
    for (const session of sessions) {
      this.list.appendChild(this.row(agent, session));
    }
  }

  private show(text: string, level: 'info' | 'error' = 'info'): void {
    this.list.textContent = '';
    this.list.appendChild(h('div', { class: `jp-GlueAdopt-status${level === 'error' ? ' jp-mod-error' : ''}`, text }));
  }

  private row(agent: IAgent, session: IAgentSession): HTMLElement {
    const when = session.updated_at ? Date.parse(session.updated_at) / 1000 : NaN;
    const adopted = session.glue_session_id;
    const button = h('button', {
      type: 'button',
      class: 'jp-GlueButton jp-GlueAdopt-continue',
      title: adopted ? 'Already a glue session: open it' : `Continue this ${agent.name} session here`
    });
    button.textContent = adopted ? 'Open' : 'Continue';
    button.addEventListener('click', () => void (adopted ? this.opts.onOpen(adopted) : this.adopt(agent, session, button)));
    return h(
      'div',
      { class: 'jp-GlueAdopt-row', 'data-agent-session': session.agent_session_id },
      h(
        'div',
        { class: 'jp-GlueAdopt-text' },
        h('div', { class: 'jp-GlueAdopt-title', text: session.title || session.agent_session_id, title: session.agent_session_id }),
        h('div', {
          class: 'jp-GlueAdopt-meta',
          text: [Number.isNaN(when) ? '' : timeAgo(when), adopted ? 'already in glue' : ''].filter(Boolean).join(' · ')
        })
      ),
      button
    );
  }

  private async adopt(agent: IAgent, session: IAgentSession, button: HTMLButtonElement): Promise<void> {
    this.busy = true;
    button.disabled = true;
    button.textContent = 'Continuing…';
    try {
      const created = await this.opts.api.createSession({
        agent: agent.name,
        cwd: this.opts.folder(),
        agent_session_id: session.agent_session_id,
        ...(session.title ? { title: session.title } : {}),
        ...this.opts.choices()
      });
      this.loaded = null;
      this.node.open = false;
      this.opts.onAdopted(created);
    } catch (err) {
      // Said above the rows, which stay: another one may be the one to continue.
      this.list.querySelector('.jp-GlueAdopt-status.jp-mod-error')?.remove();
      this.list.prepend(h('div', { class: 'jp-GlueAdopt-status jp-mod-error', role: 'alert', text: (err as Error).message }));
      button.disabled = false;
      button.textContent = 'Continue';
    } finally {
      this.busy = false;
    }
  }
}
