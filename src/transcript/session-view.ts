/**
 * One session, watched and steered: header (status dot, title, agent, folder, when it started,
 * how long this turn or the pause has lasted, how it last resumed, whether it needs you), the
 * controls enabled per state, the transcript with its find bar, inline permissions and a
 * composer. Framework-free: the JupyterLab main-area panel and the notebook widget both wrap
 * this (the lab puts the controls in its own toolbar, `controls: 'none'`).
 *
 * Others add to it: `addHeaderItem` (header, right of the title), `addComposerItem` (beside the
 * composer's input); code-block actions go through the host (actions.ts).
 */
import { GlueAPI, ReconnectingStream, StreamStatus, isNotFound } from '../client';
import { Emitter, TranscriptModel, isOlder } from '../model';
import {
  Control,
  IEvent,
  ISession,
  SessionState,
  canControl,
  needsYouText,
  sendAction,
  stateLabel
} from '../types';
import { WorkspaceController } from '../workspace/controller';
import { IBlockContext } from './blocks';
import { clockTime, formatDuration, formatTime, h, icon, iconButton } from './dom';
import { ITranscriptHost, pageHost } from './host';
import { IconName } from './icons';
import { displayFolder } from './paths';
import { TranscriptView } from './render';
import { AgentSessionControls } from './session-config';
import { SlashCommands } from './slash-commands';

export interface ISessionViewOptions {
  api: GlueAPI;
  sessionId: string;
  /** Smaller chrome for the notebook widget. */
  compact?: boolean;
  /** Keep keyboard events inside (notebook shortcuts must not fire while typing). */
  isolateKeys?: boolean;
  /** What the page can do (highlighting, opening files…); default: ask the page. */
  host?: ITranscriptHost;
  /** `inline`: the view's own control buttons; `none`: the host shows them (JupyterLab's toolbar). */
  controls?: 'inline' | 'none';
  /** Open another session (a fork); without it the view says where to find it. */
  openSession?: (id: string) => void;
}

interface IControlSpec {
  control: Control;
  label: string;
  /** The label in the notebook widget, next to the notebook's own kernel buttons. */
  compactLabel: string;
  title: string;
  icon: IconName;
}

export const CONTROLS: IControlSpec[] = [
  { control: 'interrupt', label: 'Interrupt', compactLabel: 'Interrupt agent', title: 'Cancel the turn in progress; the session stays alive', icon: 'interrupt' },
  { control: 'pause', label: 'Pause', compactLabel: 'Pause', title: 'Freeze the agent where it is and free its slot', icon: 'pause' },
  { control: 'stop', label: 'Stop', compactLabel: 'Stop agent', title: "End the agent's process; the transcript is kept", icon: 'stop' },
  { control: 'resume', label: 'Resume', compactLabel: 'Resume', title: 'Continue this conversation', icon: 'resume' }
];

const RESUMED: Record<string, string> = {
  thaw: 'resumed after a pause',
  native: 'resumed: the agent picked up the conversation',
  seeded: 'resumed with the conversation so far'
};

const REFRESH_KINDS = new Set([
  'state',
  'resume',
  'turn_start',
  'turn_end',
  'session_info',
  'permission_request',
  'permission_answer',
  'process_exit',
  'config_change',
  'usage',
  'commands'
]);

/** Live states, in which how the session last resumed is still worth saying. */
const RUNNING_STATES: SessionState[] = ['starting', 'idle', 'running', 'interrupting'];

export class SessionView {
  readonly node: HTMLElement;
  readonly model = new TranscriptModel();
  readonly transcript: TranscriptView;
  readonly host: ITranscriptHost;
  /** Emitted whenever the session's JSON changes (state, title, …). */
  readonly sessionChanged = new Emitter<ISession>();
  /** Checkpoints, rewind, worktree, queue and fork (src/workspace/). */
  readonly workspace: WorkspaceController;

  private _session: ISession | null = null;
  private knownSeq = 0;
  private stream: ReconnectingStream | null = null;
  private streamStatus: StreamStatus = 'connecting';
  private busy: Control | 'send' | null = null;
  /** Settles when the message on its way has been answered (busy === 'send'). */
  private sent: Promise<void> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private disposed = false;
  private visible = false;
  private seenPending = false;
  private readonly intersections: IntersectionObserver | null;
  private readonly disconnects: (() => void)[] = [];

  private readonly dot: HTMLElement;
  private readonly titleEl: HTMLElement;
  private readonly metaEl: HTMLElement;
  private readonly timeEl: HTMLElement;
  private readonly connEl: HTMLElement;
  private readonly headerItems: HTMLElement;
  private readonly buttons = new Map<Control, HTMLButtonElement>();
  private readonly errorEl: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly sendBtn: HTMLButtonElement;
  private readonly composerItems: HTMLElement;
  private readonly hint: HTMLElement;
  private readonly agentControls: AgentSessionControls;
  private readonly slash: SlashCommands;

  constructor(private readonly opts: ISessionViewOptions) {
    this.host = opts.host ?? pageHost();
    this.dot = h('span', { class: 'jp-GlueDot', 'aria-hidden': 'true' });
    this.titleEl = h('div', { class: 'jp-GlueSessionView-title', text: 'Loading session…', tabindex: 0 });
    this.titleEl.addEventListener('dblclick', () => this.startRename());
    this.titleEl.addEventListener('keydown', ev => {
      if (ev.key === 'F2' || (ev.key === 'Enter' && ev.target === this.titleEl)) {
        ev.preventDefault();
        this.startRename();
      }
    });
    this.metaEl = h('div', { class: 'jp-GlueSessionView-meta' });
    this.timeEl = h('div', { class: 'jp-GlueSessionView-time' });
    this.connEl = h('span', { class: 'jp-GlueSessionView-conn' });
    this.headerItems = h('div', { class: 'jp-GlueSessionView-items' });
    const controls = h('div', { class: 'jp-GlueSessionView-controls', role: 'toolbar', 'aria-label': 'Session controls' });
    if ((opts.controls ?? 'inline') === 'inline') {
      for (const c of CONTROLS) {
        const label = opts.compact ? c.compactLabel : c.label;
        const b = h('button', {
          type: 'button',
          class: `jp-GlueToolButton jp-GlueControl jp-mod-${c.control}`,
          title: c.title,
          'data-control': c.control,
          disabled: true
        });
        b.append(icon(c.icon), h('span', { class: 'jp-GlueToolButton-label', text: label }));
        b.addEventListener('click', () => void this.control(c.control));
        this.buttons.set(c.control, b);
        controls.appendChild(b);
      }
      const find = iconButton('search', 'Find in transcript (Ctrl+F)', 'jp-GlueToolButton jp-GlueFindButton');
      find.addEventListener('click', () => this.openFind());
      controls.appendChild(find);
    } else {
      controls.style.display = 'none';
    }
    const header = h(
      'div',
      { class: 'jp-GlueSessionView-header' },
      this.dot,
      h('div', { class: 'jp-GlueSessionView-heading' }, this.titleEl, this.metaEl, this.timeEl),
      this.headerItems,
      this.connEl,
      controls
    );
    this.errorEl = h('div', { class: 'jp-GlueError jp-GlueSessionView-error', role: 'alert' });
    this.errorEl.style.display = 'none';
    this.workspace = new WorkspaceController(this, opts.api, opts.sessionId);
    header.querySelector('.jp-GlueSessionView-heading')!.appendChild(this.workspace.headerNode);
    this.transcript = new TranscriptView({
      model: this.model,
      onPermission: (requestId, optionId) => this.answerPermission(requestId, optionId),
      context: () => this.blockContext(),
      emptyText: 'No messages yet. Send the agent a first message below.',
      workspaceActions: this.workspace.actions
    });
    this.transcript.node.appendChild(this.workspace.queueNode);
    this.input = h('textarea', {
      class: 'jp-GlueComposer-input',
      rows: 2,
      'aria-label': 'Message to the agent'
    });
    this.input.addEventListener('input', () => this.updateControls());
    this.input.addEventListener('keydown', ev => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        void this.send();
      }
    });
    this.sendBtn = h('button', { type: 'button', class: 'jp-GlueButton jp-mod-accept jp-GlueComposer-send' });
    this.sendBtn.textContent = 'Send';
    this.sendBtn.addEventListener('click', () => void this.send());
    this.composerItems = h('div', { class: 'jp-GlueComposer-items' });
    this.hint = h('div', { class: 'jp-GlueComposer-hint', 'aria-live': 'polite' });
    const composer = h(
      'div',
      { class: 'jp-GlueComposer' },
      h('div', { class: 'jp-GlueComposer-row' }, this.input, this.composerItems, this.sendBtn, this.workspace.sendNowButton),
      this.hint
    );
    this.agentControls = new AgentSessionControls({
      api: opts.api,
      sessionId: opts.sessionId,
      onSession: s => this.updateSession(s),
      onError: message => this.showError(message)
    });
    this.addHeaderItem('agent-session', this.agentControls.node, 50);
    this.slash = new SlashCommands(this.input, composer, () => this._session?.commands ?? []);
    this.node = h(
      'div',
      { class: `jp-GlueSessionView${opts.compact ? ' jp-mod-compact' : ''}`, 'data-session-id': opts.sessionId },
      header,
      this.errorEl,
      this.transcript.node,
      composer
    );
    // Ctrl+F finds in the transcript (before the widget keeps keys from the notebook).
    this.node.addEventListener('keydown', ev => {
      if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && !ev.shiftKey && ev.key.toLowerCase() === 'f') {
        ev.preventDefault();
        ev.stopPropagation();
        this.openFind();
      }
    });
    if (opts.isolateKeys) {
      this.node.setAttribute('data-lm-suppress-shortcuts', 'true');
      for (const type of ['keydown', 'keyup', 'keypress']) {
        this.node.addEventListener(type, ev => ev.stopPropagation());
      }
    }
    this.disconnects.push(
      this.model.titleChanged.connect(() => this.scheduleRefresh()),
      this.transcript.rendered.connect(() => this.checkSeen()),
      this.host.codeBlockActions.changed.connect(() => this.transcript.redrawAll())
    );
    this.intersections =
      typeof IntersectionObserver === 'function'
        ? new IntersectionObserver(entries => {
            this.visible = entries[entries.length - 1].isIntersecting;
            this.checkSeen();
          })
        : null;
    this.intersections?.observe(this.node);
    document.addEventListener('visibilitychange', this.onVisibility);
    this.ticker = setInterval(() => this.updateTime(), 1000);
    this.updateControls();
    this.host.viewMounted?.(opts.sessionId, this.node);
    void this.load();
  }

  get sessionId(): string {
    return this.opts.sessionId;
  }

  get session(): ISession | null {
    return this._session;
  }

  get state(): SessionState | undefined {
    return this._session?.state;
  }

  dispose(): void {
    if (this.disposed) {
      return;
    }
    this.disposed = true;
    this.stream?.close();
    this.workspace.dispose();
    this.transcript.dispose();
    this.agentControls.dispose();
    this.slash.dispose();
    this.intersections?.disconnect();
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.disconnects.forEach(d => d());
    if (this.ticker) {
      clearInterval(this.ticker);
    }
    if (this.refreshTimer) {
      clearTimeout(this.refreshTimer);
    }
    this.sessionChanged.clear();
  }

  /** Add a node to the header, right of the title (lower ranks first); returns a remover. */
  addHeaderItem(name: string, node: HTMLElement, rank = 100): () => void {
    return addRanked(this.headerItems, name, node, rank);
  }

  /** Add a node beside the composer's input (lower ranks first); returns a remover. */
  addComposerItem(name: string, node: HTMLElement, rank = 100): () => void {
    return addRanked(this.composerItems, name, node, rank);
  }

  /** Take a newer copy of the session (e.g. from the sessions stream). */
  updateSession(s: ISession): void {
    if (s.id !== this.opts.sessionId) {
      return;
    }
    if (s === this._session || (this._session && isOlder(s, this._session))) {
      return;
    }
    this._session = s;
    this.knownSeq = Math.max(this.knownSeq, s.last_seq);
    this.render();
    this.checkSeen();
  }

  /** Show the find bar (Ctrl+F), optionally with a query, at the first match from item `from`. */
  openFind(query?: string, from?: number): void {
    this.transcript.find(query, from);
  }

  /** Show a search result: the item of event `seq` (or the first reply of `turn`), query found. */
  revealMatch(query: string, where: { seq?: number | null; turn?: number | null }): void {
    const show = () => {
      const items = this.model.items;
      let index = -1;
      if (where.seq) {
        index = items.findIndex(i => i.seq >= where.seq!);
      } else if (where.turn) {
        index = items.findIndex(i => i.turn === where.turn && i.type === 'message');
      }
      this.openFind(query, index === -1 ? undefined : index);
    };
    if (this.model.lastSeq >= (this._session?.last_seq ?? 0) && this.model.items.length) {
      show();
    } else {
      // Not loaded yet: once the replay has caught up.
      const off = this.transcript.rendered.connect(() => {
        if (this.model.lastSeq >= (this._session?.last_seq ?? Infinity)) {
          off();
          show();
        }
      });
    }
  }

  private blockContext(): IBlockContext {
    return {
      host: this.host,
      sessionId: this.opts.sessionId,
      surface: this.opts.compact ? 'widget' : 'lab',
      cwd: this._session?.cwd ?? ''
    };
  }

  private async load(): Promise<void> {
    try {
      const s = await this.opts.api.getSession(this.opts.sessionId);
      if (this.disposed) {
        return;
      }
      this.updateSession(s);
    } catch (err) {
      this.showError((err as Error).message);
      this.titleEl.textContent = 'Session unavailable';
    }
    if (this.disposed) {
      return;
    }
    this.stream = this.opts.api.sessionStream(this.opts.sessionId, 0, {
      events: events => this.onEvents(events),
      status: status => {
        this.streamStatus = status;
        this.renderConn();
      }
    });
  }

  private onEvents(events: IEvent[]): void {
    this.model.apply(events);
    this.workspace.onEvents(events);
    let refresh = false;
    for (const ev of events) {
      if (ev.seq <= this.knownSeq) {
        continue;
      }
      if ((ev.kind === 'state' || ev.kind === 'resume') && this._session) {
        if (ev.kind === 'state') {
          this._session = { ...this._session, state: ev.data?.state ?? this._session.state };
        }
        this.render();
      }
      if (REFRESH_KINDS.has(ev.kind)) {
        refresh = true;
      }
    }
    if (refresh) {
      this.scheduleRefresh();
    }
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer || this.disposed) {
      return;
    }
    this.refreshTimer = setTimeout(async () => {
      this.refreshTimer = null;
      try {
        const s = await this.opts.api.getSession(this.opts.sessionId);
        if (!this.disposed) {
          this.updateSession(s);
        }
      } catch {
        /* the next event tries again */
      }
    }, 150);
  }

  // -- what the user has seen ----------------------------------------------------------------

  private onVisibility = (): void => this.checkSeen();

  /**
   * The end of a session that needs its user (a finished turn, a failure) is on screen, in a
   * visible page: tell the server it has been seen, so every surface stops signalling it.
   */
  private checkSeen(): void {
    const s = this._session;
    if (!s || this.disposed || this.seenPending || (s.needs_you !== 'turn_done' && s.needs_you !== 'failed')) {
      return;
    }
    const attention = s.attention_seq ?? 0;
    if (attention <= (s.seen_seq ?? 0) || this.model.lastSeq < attention) {
      return;
    }
    if (document.visibilityState !== 'visible' || !this.visible || !this.transcript.atLiveEnd) {
      return;
    }
    this.seenPending = true;
    this.opts.api
      .markSeen(this.opts.sessionId, this.model.lastSeq)
      .then(seen => {
        if (!this.disposed) {
          this.updateSession(seen);
        }
      })
      .catch(err => {
        // Forgotten meanwhile: nothing left to mark, and the stream tells the user it is gone.
        if (!isNotFound(err)) {
          console.warn('glue_jupyter: could not mark the session seen', err);
        }
      })
      .finally(() => (this.seenPending = false));
  }

  // -- controls ------------------------------------------------------------------------------

  /** Apply a control; errors are shown in plain words in the view. */
  async control(control: Control): Promise<void> {
    if (this.busy) {
      return;
    }
    this.busy = control;
    this.clearError();
    this.updateControls();
    try {
      const s = await this.opts.api.control(this.opts.sessionId, control);
      if (control === 'resume') {
        this.transcript.scrollToEnd();
      }
      this.updateSession(s);
    } catch (err) {
      this.showError((err as Error).message);
    } finally {
      this.busy = null;
      this.updateControls();
    }
  }

  /** Send the composer's text: a prompt, or a resume with it for a paused/stopped session. */
  async send(text?: string): Promise<void> {
    // A message sent while the previous one is on its way goes after it, in order.
    while (this.busy === 'send' && this.sent) {
      await this.sent;
    }
    const fromComposer = text === undefined;
    const message = (text ?? this.input.value).trim();
    const action = sendAction(this.state);
    if (!message || this.busy) {
      return;
    }
    if (!action) {
      this.explainCannotSend();
      return;
    }
    this.busy = 'send';
    let done!: () => void;
    this.sent = new Promise(resolve => (done = resolve));
    if (fromComposer) {
      this.input.value = ''; // taken at once: the box is free for the next message
    }
    this.clearError();
    this.updateControls();
    try {
      // While a turn runs the server queues the message (the queue shows under the transcript).
      const s =
        action === 'resume'
          ? await this.opts.api.resume(this.opts.sessionId, message)
          : await this.opts.api.prompt(this.opts.sessionId, message);
      this.transcript.scrollToEnd();
      this.updateSession(s);
    } catch (err) {
      this.showError((err as Error).message);
      if (fromComposer && !this.input.value.trim()) {
        this.input.value = message; // not sent: give it back, unless something new was typed
      }
    } finally {
      this.busy = null;
      this.sent = null;
      done();
      this.updateControls();
    }
  }

  /** Enter while the session cannot take a message (stopping, not loaded): say why, keep the
   * text. (While a turn runs or the agent starts, a message is queued: sendAction.) */
  private explainCannotSend(): void {
    const why =
      this.state === 'stopping'
        ? 'The session is stopping; resume it afterwards to send this — your text stays here.'
        : 'The session is not loaded yet; try again in a moment.';
    this.hint.textContent = why;
    this.hint.classList.remove('jp-mod-nudge');
    void this.hint.offsetWidth; // restart the flash
    this.hint.classList.add('jp-mod-nudge');
  }

  private async answerPermission(requestId: string, optionId: string): Promise<void> {
    const s = await this.opts.api.answerPermission(this.opts.sessionId, requestId, optionId);
    this.updateSession(s);
  }

  focusComposer(): void {
    this.input.focus();
  }

  /** Rename in place: the title becomes an input (Enter saves, Escape cancels). */
  startRename(): void {
    const s = this._session;
    if (!s || this.titleEl.querySelector('input')) {
      return;
    }
    const input = h('input', { type: 'text', class: 'jp-GlueSessionView-titleInput', 'aria-label': 'Session title', maxlength: 200 });
    input.value = s.title;
    this.titleEl.replaceChildren(input);
    input.focus();
    input.select();
    let done = false;
    const finish = async (save: boolean) => {
      if (done) {
        return;
      }
      done = true;
      const title = input.value.trim();
      this.titleEl.textContent = title || s.title; // the input goes; the title shows at once
      if (save && title && title !== s.title) {
        try {
          this.updateSession(await this.opts.api.rename(this.opts.sessionId, title));
        } catch (err) {
          this.showError((err as Error).message);
        }
      }
      this.render();
      this.titleEl.focus();
    };
    input.addEventListener('keydown', ev => {
      ev.stopPropagation();
      if (ev.key === 'Enter') {
        ev.preventDefault();
        void finish(true);
      } else if (ev.key === 'Escape') {
        ev.preventDefault();
        void finish(false);
      }
    });
    input.addEventListener('blur', () => void finish(true));
  }

  get openSession(): ((id: string) => void) | undefined {
    return this.opts.openSession;
  }

  /** The composer's text, for "Send now" (src/workspace/controller.ts). */
  takeComposerText(): string {
    return this.input.value.trim();
  }

  clearComposer(): void {
    this.input.value = '';
    this.updateControls();
  }

  showError(message: string): void {
    this.errorEl.textContent = '';
    const close = h('button', { type: 'button', class: 'jp-GlueError-close', title: 'Dismiss', 'aria-label': 'Dismiss' }, '×');
    close.addEventListener('click', () => this.clearError());
    this.errorEl.appendChild(h('span', { text: message }));
    this.errorEl.appendChild(close);
    this.errorEl.style.display = '';
  }

  private clearError(): void {
    this.errorEl.style.display = 'none';
    this.errorEl.textContent = '';
  }

  // -- drawing -------------------------------------------------------------------------------

  private render(): void {
    const s = this._session;
    if (!s) {
      return;
    }
    this.node.dataset.state = s.state;
    this.node.dataset.needsYou = s.needs_you ?? '';
    this.dot.dataset.state = s.state;
    this.dot.title = stateLabel(s.state);
    if (!this.titleEl.querySelector('input')) {
      this.titleEl.textContent = s.title || 'Untitled session';
      this.titleEl.title = `${s.title || 'Untitled session'} — double-click to rename`;
    }
    const folder = displayFolder(s.cwd, this.host.serverRoot);
    this.metaEl.replaceChildren(
      h('span', { class: 'jp-GlueSessionView-state', text: stateLabel(s.state) }),
      h('span', { class: 'jp-GlueSessionView-agent', text: s.agent }),
      h('span', { class: 'jp-GlueSessionView-cwd', title: s.cwd }, icon('folder', 'jp-GlueIcon jp-GlueFolderIcon'), folder)
    );
    // How it last resumed, while that is still news (not once it stopped again). The log is
    // the source of truth for it; the row may lag behind.
    const via = this.model.lastResumeVia ?? s.resumed_via;
    if (via && RUNNING_STATES.includes(s.state)) {
      this.metaEl.appendChild(h('span', { class: 'jp-GlueSessionView-resumed', text: RESUMED[via] ?? 'resumed' }));
    }
    if (s.needs_you && s.needs_you !== 'failed') {
      // (A failure says so already: the state, and the error beside it.)
      this.metaEl.appendChild(
        h('span', { class: 'jp-GlueSessionView-needsYou', 'data-reason': s.needs_you, text: needsYouText(s) })
      );
    }
    if (s.state === 'failed' && s.error) {
      this.metaEl.appendChild(h('span', { class: 'jp-GlueSessionView-failure', text: s.error, title: s.error }));
    }
    this.workspace.update(s);
    this.updateTime();
    this.updateControls();
    this.agentControls.update(s);
    this.sessionChanged.emit(s);
  }

  private renderConn(): void {
    const texts: Partial<Record<StreamStatus, string>> = {
      reconnecting: 'reconnecting…',
      connecting: 'connecting…',
      gone: 'This session no longer exists on the server (it was forgotten): nothing more will arrive.'
    };
    const text = texts[this.streamStatus] ?? '';
    this.node.dataset.stream = this.streamStatus;
    this.connEl.textContent = text;
    this.connEl.style.display = text ? '' : 'none';
    this.connEl.classList.toggle('jp-mod-gone', this.streamStatus === 'gone');
    if (this.streamStatus === 'gone') {
      this.updateControls();
    }
  }

  /** Started when · turns · this turn / paused for (the only parts that tick) · ended when. */
  private updateTime(): void {
    const s = this._session;
    if (!s) {
      this.timeEl.textContent = '';
      return;
    }
    const now = Date.now() / 1000;
    const parts: HTMLElement[] = [h('span', { title: formatTime(s.created_at), text: `started ${clockTime(s.created_at, now)}` })];
    if (s.turns) {
      parts.push(h('span', { text: `${s.turns} turn${s.turns === 1 ? '' : 's'}` }));
    }
    const turnStart = this.model.currentTurnStart();
    if ((s.state === 'running' || s.state === 'interrupting') && turnStart) {
      parts.push(h('span', { class: 'jp-GlueSessionView-ticking', text: `this turn ${formatDuration(now - turnStart)}` }));
    }
    if (s.state === 'paused' && s.paused_since) {
      parts.push(h('span', { class: 'jp-GlueSessionView-ticking', text: `paused for ${formatDuration(now - s.paused_since)}` }));
    }
    if (s.state === 'stopped' || s.state === 'failed') {
      parts.push(h('span', { title: formatTime(s.updated_at), text: `${s.state} ${clockTime(s.updated_at, now)}` }));
    }
    this.timeEl.replaceChildren(...parts);
  }

  private updateControls(): void {
    const gone = this.streamStatus === 'gone';
    const state = gone ? undefined : this.state;
    for (const [control, b] of this.buttons) {
      b.disabled = gone || !!this.busy || !canControl(state, control);
      b.classList.toggle('jp-mod-busy', this.busy === control);
    }
    const action = sendAction(state);
    this.sendBtn.textContent = action === 'resume' ? 'Resume & send' : action === 'queue' ? 'Queue' : 'Send';
    this.sendBtn.title =
      action === 'queue' ? 'Send this message when the turn ends (you can still edit or remove it)' : '';
    this.sendBtn.disabled = gone || !!this.busy || !action || !this.input.value.trim();
    this.workspace.composerChanged(!!this.input.value.trim(), gone || !!this.busy);
    this.input.disabled = gone;
    let hint: string;
    let placeholder: string;
    switch (gone ? 'gone' : state) {
      case 'gone':
        hint = 'Forgotten on the server: what is shown above is all there is.';
        placeholder = '';
        break;
      case undefined:
        hint = '';
        placeholder = 'Loading…';
        break;
      case 'idle':
        hint = 'Enter to send · Shift+Enter for a new line';
        placeholder = 'Message the agent';
        break;
      case 'running':
        hint = 'The agent is working: Enter queues your message for when the turn ends; Send now interrupts it.';
        placeholder = 'Your next message (queued until the turn ends)';
        break;
      case 'interrupting':
        hint = 'Interrupting: Enter queues your message; it is sent as soon as the turn has ended.';
        placeholder = 'Your next message';
        break;
      case 'starting':
        hint = 'The agent is starting: Enter queues your message; it goes as soon as the agent is ready.';
        placeholder = 'You can type your first message now';
        break;
      case 'stopping':
        hint = 'Stopping…';
        placeholder = '';
        break;
      case 'paused':
        hint = 'Paused: sending resumes the session with your message.';
        placeholder = 'Message to send on resume';
        break;
      case 'failed':
        hint = 'This session failed: its transcript stays as it is until you resume it. Sending resumes it with your message.';
        placeholder = 'Message to resume with';
        break;
      default:
        hint = 'This session has stopped: its transcript stays as it is until you resume it. Sending resumes it with your message.';
        placeholder = 'Message to resume with';
    }
    if (!this.hint.classList.contains('jp-mod-nudge') || sendAction(state)) {
      this.hint.classList.remove('jp-mod-nudge');
      this.hint.textContent = hint;
    }
    this.input.placeholder = placeholder;
  }
}

/** Insert `node` into `parent` by rank (then name); returns a remover. */
function addRanked(parent: HTMLElement, name: string, node: HTMLElement, rank: number): () => void {
  node.dataset.glueItem = name;
  node.dataset.glueRank = String(rank);
  const after = Array.from(parent.children).find(c => Number((c as HTMLElement).dataset.glueRank ?? 0) > rank);
  parent.insertBefore(node, after ?? null);
  return () => node.remove();
}
