/**
 * The "New session" composer of the side panel: agent (installed first; the others say
 * how to install them), folder (the file browser's current folder by default), title and
 * a first message.
 */
import { GlueAPI, ICreateSession } from '../client';
import { h } from '../transcript/dom';
import { SlashCommands } from '../transcript/slash-commands';
import { styledSelect } from './widgets';
import type { IAgent, ISession } from '../types';
import { AdoptList } from './adopt';
import { StartOptions } from './start-options';
import { agentStatus } from './agent-status';

export interface INewSessionFormOptions {
  api: GlueAPI;
  /** The folder to start in by default (relative to the server root; '' is the root). */
  defaultFolder: () => string;
  onCreated: (session: ISession) => void;
  onCancel: () => void;
}

export class NewSessionForm {
  readonly node: HTMLFormElement;
  private readonly agentSelect: HTMLSelectElement;
  private readonly agentHint: HTMLElement;
  private readonly folderInput: HTMLInputElement;
  private readonly titleInput: HTMLInputElement;
  private readonly promptInput: HTMLTextAreaElement;
  private readonly isolateInput: HTMLInputElement;
  private readonly startBtn: HTMLButtonElement;
  private readonly errorEl: HTMLElement;
  private readonly options = new StartOptions();
  private readonly adopt: AdoptList;
  private agents: IAgent[] = [];
  private folderTouched = false;
  private busy = false;
  /** Start was asked for before the agents' check answered: start once it does. */
  private startWhenChecked = false;

  constructor(private readonly opts: INewSessionFormOptions) {
    this.agentSelect = h('select', { class: 'jp-GlueNew-agent', name: 'agent', 'aria-label': 'Agent' });
    const agentBox = styledSelect(this.agentSelect);
    this.agentSelect.addEventListener('change', () => this.update());
    this.agentHint = h('div', { class: 'jp-GlueNew-hint' });
    this.folderInput = h('input', {
      class: 'jp-GlueNew-folder',
      name: 'cwd',
      type: 'text',
      placeholder: '/ (the server root)',
      'aria-label': 'Folder',
      spellcheck: 'false'
    });
    this.folderInput.addEventListener('input', () => {
      this.folderTouched = true;
      this.adopt?.update();
    });
    this.titleInput = h('input', {
      class: 'jp-GlueNew-title',
      name: 'title',
      type: 'text',
      placeholder: 'Title (optional)',
      'aria-label': 'Title'
    });
    this.promptInput = h('textarea', {
      class: 'jp-GlueNew-prompt',
      name: 'prompt',
      rows: 3,
      placeholder: 'First message (optional) — Enter to start',
      'aria-label': 'First message'
    });
    this.isolateInput = h('input', { class: 'jp-GlueNew-isolate', name: 'isolate', type: 'checkbox' });
    this.promptInput.addEventListener('keydown', ev => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        void this.submit();
      }
    });
    this.startBtn = h('button', { type: 'submit', class: 'jp-GlueButton jp-mod-accept jp-GlueNew-start' });
    this.startBtn.textContent = 'Start';
    const cancel = h('button', { type: 'button', class: 'jp-GlueButton jp-GlueNew-cancel' });
    cancel.textContent = 'Cancel';
    cancel.addEventListener('click', () => this.opts.onCancel());
    this.errorEl = h('div', { class: 'jp-GlueError', role: 'alert' });
    this.errorEl.style.display = 'none';
    this.adopt = new AdoptList({
      api: opts.api,
      agent: () => this.selected(),
      folder: () => this.folder(),
      choices: () => this.options.values(),
      onAdopted: s => this.opts.onCreated(s),
      onOpen: id => void opts.api.getSession(id).then(s => this.opts.onCreated(s), err => this.showError(err.message))
    });
    const promptBox = h('div', { class: 'jp-GlueNew-promptBox' }, this.promptInput);
    new SlashCommands(this.promptInput, promptBox, () => this.selected()?.commands ?? []);
    this.node = h(
      'form',
      { class: 'jp-GlueNew', 'aria-label': 'New session' },
      h('div', { class: 'jp-GlueNew-heading', text: 'New session' }),
      h('label', { class: 'jp-GlueNew-field' }, h('span', { text: 'Agent' }), agentBox),
      this.agentHint,
      h('label', { class: 'jp-GlueNew-field' }, h('span', { text: 'Folder' }), this.folderInput),
      this.options.node,
      h('label', { class: 'jp-GlueNew-field' }, h('span', { text: 'Title' }), this.titleInput),
      h(
        'label',
        {
          class: 'jp-GlueNew-check',
          title: 'The agent works in a git worktree of its own, on a new branch: merge it back or discard it later. The folder must be in a git repository.'
        },
        this.isolateInput,
        h('span', { text: 'Worktree of its own (a new git branch)' })
      ),
      promptBox,
      this.errorEl,
      h('div', { class: 'jp-GlueNew-buttons' }, cancel, this.startBtn),
      this.adopt.node
    );
    this.node.addEventListener('submit', ev => {
      ev.preventDefault();
      void this.submit();
    });
    this.node.addEventListener('keydown', ev => {
      if (ev.key === 'Escape') {
        this.opts.onCancel();
      }
    });
  }

  /** Called each time the form is shown; `folder` (root-relative) starts it there. */
  async open(folder?: string): Promise<void> {
    this.errorEl.style.display = 'none';
    this.startWhenChecked = false;
    if (folder !== undefined) {
      this.folderInput.value = folder;
      this.folderTouched = true;
    } else if (!this.folderTouched) {
      this.folderInput.value = this.opts.defaultFolder();
    }
    await this.loadAgents();
    this.promptInput.focus();
  }

  /** Follow the file browser while the user has not typed a folder. */
  folderChanged(): void {
    if (!this.folderTouched) {
      this.folderInput.value = this.opts.defaultFolder();
      this.adopt.update();
    }
  }

  /** The folder as it is sent: relative to the server root. */
  private folder(): string {
    return this.folderInput.value.trim().replace(/^\/+/, '') || '.';
  }

  private async loadAgents(): Promise<void> {
    let agents: IAgent[];
    if (!this.agents.length) {
      // The server starts each installed agent briefly to check it (cached afterwards).
      this.agentHint.textContent = 'Checking the agents…';
      this.agentHint.dataset.level = 'info';
      this.agentHint.style.display = '';
    }
    try {
      agents = await this.opts.api.agents();
    } catch (err) {
      this.startWhenChecked = false;
      this.showError(`Could not list agents: ${(err as Error).message}`);
      return;
    }
    // Installed first, then by name (stable otherwise: the server's order).
    this.agents = agents
      .map((a, i) => ({ a, i }))
      .sort((x, y) => Number(y.a.installed) - Number(x.a.installed) || x.i - y.i)
      .map(x => x.a);
    const previous = this.agentSelect.value;
    this.agentSelect.textContent = '';
    for (const a of this.agents) {
      const status = agentStatus(a);
      const note = status.word === 'ready' || status.word === 'installed' ? '' : ` (${status.word})`;
      this.agentSelect.appendChild(h('option', { value: a.name, text: (a.title || a.name) + note }));
    }
    const keep = this.agents.find(a => a.name === previous && a.installed);
    const first = keep ?? this.agents.find(a => a.installed) ?? this.agents[0];
    if (first) {
      this.agentSelect.value = first.name;
    }
    this.update();
    if (this.startWhenChecked) {
      this.startWhenChecked = false;
      void this.submit();
    }
  }

  private selected(): IAgent | undefined {
    return this.agents.find(a => a.name === this.agentSelect.value);
  }

  private update(): void {
    const agent = this.selected();
    if (agent) {
      const status = agentStatus(agent);
      this.agentHint.textContent = status.text;
      this.agentHint.dataset.level = status.level;
      this.agentHint.style.display = '';
    } else {
      this.agentHint.textContent = '';
      this.agentHint.style.display = 'none';
    }
    this.startBtn.disabled = this.busy || !agent || !agent.installed;
    this.options.update(agent);
    this.adopt.update();
  }

  private showError(message: string): void {
    this.errorEl.textContent = message;
    this.errorEl.style.display = '';
  }

  async submit(): Promise<void> {
    if (!this.agents.length) {
      // The first check of the agents takes a few seconds: keep the user's Start, say so.
      this.startWhenChecked = true;
      this.agentHint.textContent = 'Checking the agents… the session starts as soon as they answer.';
      this.agentHint.dataset.level = 'info';
      this.agentHint.style.display = '';
      this.startBtn.disabled = true;
      return;
    }
    const agent = this.selected();
    if (this.busy || !agent || !agent.installed) {
      return;
    }
    this.busy = true;
    this.update();
    this.errorEl.style.display = 'none';
    const body: ICreateSession = { agent: agent.name, cwd: this.folder(), ...this.options.values() };
    const title = this.titleInput.value.trim();
    const prompt = this.promptInput.value.trim();
    if (title) {
      body.title = title;
    }
    if (prompt) {
      body.prompt = prompt;
    }
    if (this.isolateInput.checked) {
      body.isolate = true;
    }
    try {
      const s = await this.opts.api.createSession(body);
      this.titleInput.value = '';
      this.promptInput.value = '';
      this.isolateInput.checked = false;
      this.folderTouched = false;
      this.options.reset();
      this.opts.onCreated(s);
    } catch (err) {
      this.showError((err as Error).message);
    } finally {
      this.busy = false;
      this.update();
    }
  }
}
