/**
 * One session, watched and steered: header (status dot, title, agent, folder, elapsed,
 * paused for, how it last resumed), the controls enabled per state, the transcript,
 * inline permissions and a composer. Framework-free: the JupyterLab main-area panel
 * and the notebook widget both wrap this.
 */
import { GlueAPI, ReconnectingStream, StreamStatus } from '../client';
import { Emitter, TranscriptModel, isOlder } from '../model';
import {
  Control,
  IEvent,
  ISession,
  SessionState,
  canControl,
  sendAction,
  stateLabel
} from '../types';
import { formatDuration, h, shortPath } from './dom';
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
}

const CONTROLS: { control: Control; label: string; title: string }[] = [
  { control: 'interrupt', label: 'Interrupt', title: 'Cancel the turn in progress; the session stays alive' },
  { control: 'pause', label: 'Pause', title: 'Freeze the agent where it is and free its slot' },
  { control: 'stop', label: 'Stop', title: 'End the agent process; the transcript is kept' },
  { control: 'resume', label: 'Resume', title: 'Continue this conversation' }
];

const RESUMED: Record<string, string> = {
  thaw: 'resumed by thawing',
  native: 'resumed natively',
  seeded: 'resumed from the transcript'
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

export class SessionView {
  readonly node: HTMLElement;
  readonly model = new TranscriptModel();
  readonly transcript: TranscriptView;
  /** Emitted whenever the session's JSON changes (state, title, …). */
  readonly sessionChanged = new Emitter<ISession>();

  private _session: ISession | null = null;
  private knownSeq = 0;
  private stream: ReconnectingStream | null = null;
  private streamStatus: StreamStatus = 'connecting';
  private busy: Control | 'send' | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private disposed = false;

  private readonly dot: HTMLElement;
  private readonly titleEl: HTMLElement;
  private readonly metaEl: HTMLElement;
  private readonly timeEl: HTMLElement;
  private readonly connEl: HTMLElement;
  private readonly buttons = new Map<Control, HTMLButtonElement>();
  private readonly errorEl: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly sendBtn: HTMLButtonElement;
  private readonly hint: HTMLElement;
  private readonly agentControls: AgentSessionControls;
  private readonly slash: SlashCommands;

  constructor(private readonly opts: ISessionViewOptions) {
    this.dot = h('span', { class: 'jp-GlueDot', 'aria-hidden': 'true' });
    this.titleEl = h('div', { class: 'jp-GlueSessionView-title', text: 'Loading session…' });
    this.metaEl = h('div', { class: 'jp-GlueSessionView-meta' });
    this.timeEl = h('div', { class: 'jp-GlueSessionView-time' });
    this.connEl = h('span', { class: 'jp-GlueSessionView-conn' });
    const controls = h('div', { class: 'jp-GlueSessionView-controls' });
    for (const c of CONTROLS) {
      const b = h('button', {
        type: 'button',
        class: `jp-GlueButton jp-GlueControl jp-mod-${c.control}`,
        title: c.title,
        'data-control': c.control,
        disabled: true
      });
      b.textContent = c.label;
      b.addEventListener('click', () => void this.control(c.control));
      this.buttons.set(c.control, b);
      controls.appendChild(b);
    }
    const header = h(
      'div',
      { class: 'jp-GlueSessionView-header' },
      this.dot,
      h('div', { class: 'jp-GlueSessionView-heading' }, this.titleEl, this.metaEl, this.timeEl),
      (this.agentControls = new AgentSessionControls({
        api: opts.api,
        sessionId: opts.sessionId,
        onSession: s => this.updateSession(s),
        onError: message => this.showError(message)
      })).node,
      this.connEl,
      controls
    );
    this.errorEl = h('div', { class: 'jp-GlueError jp-GlueSessionView-error', role: 'alert' });
    this.errorEl.style.display = 'none';
    this.transcript = new TranscriptView({
      model: this.model,
      onPermission: (requestId, optionId) => this.answerPermission(requestId, optionId),
      emptyText: 'No messages yet. Send the agent a first message below.'
    });
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
    this.hint = h('div', { class: 'jp-GlueComposer-hint' });
    const composer = h(
      'div',
      { class: 'jp-GlueComposer' },
      h('div', { class: 'jp-GlueComposer-row' }, this.input, this.sendBtn),
      this.hint
    );
    this.slash = new SlashCommands(this.input, composer, () => this._session?.commands ?? []);
    this.node = h(
      'div',
      { class: `jp-GlueSessionView${opts.compact ? ' jp-mod-compact' : ''}`, 'data-session-id': opts.sessionId },
      header,
      this.errorEl,
      this.transcript.node,
      composer
    );
    if (opts.isolateKeys) {
      this.node.setAttribute('data-lm-suppress-shortcuts', 'true');
      for (const type of ['keydown', 'keyup', 'keypress']) {
        this.node.addEventListener(type, ev => ev.stopPropagation());
      }
    }
    this.model.titleChanged.connect(() => this.scheduleRefresh());
    this.ticker = setInterval(() => this.updateTime(), 1000);
    this.updateControls();
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
    this.transcript.dispose();
    this.agentControls.dispose();
    this.slash.dispose();
    if (this.ticker) {
      clearInterval(this.ticker);
    }
    if (this.refreshTimer) {
      clearTimeout(this.refreshTimer);
    }
    this.sessionChanged.clear();
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

  /** Apply a control; errors are shown in plain words in the view. */
  async control(control: Control): Promise<void> {
    if (this.busy) {
      return;
    }
    this.busy = control;
    this.clearError();
    this.updateControls();
    try {
      this.updateSession(await this.opts.api.control(this.opts.sessionId, control));
    } catch (err) {
      this.showError((err as Error).message);
    } finally {
      this.busy = null;
      this.updateControls();
    }
  }

  /** Send the composer's text: a prompt, or a resume with it for a paused/stopped session. */
  async send(text?: string): Promise<void> {
    const message = (text ?? this.input.value).trim();
    const action = sendAction(this.state);
    if (!message || !action || this.busy) {
      return;
    }
    this.busy = 'send';
    this.clearError();
    this.updateControls();
    try {
      const s =
        action === 'prompt'
          ? await this.opts.api.prompt(this.opts.sessionId, message)
          : await this.opts.api.resume(this.opts.sessionId, message);
      if (text === undefined) {
        this.input.value = '';
      }
      this.transcript.scrollToEnd();
      this.updateSession(s);
    } catch (err) {
      this.showError((err as Error).message);
    } finally {
      this.busy = null;
      this.updateControls();
    }
  }

  private async answerPermission(requestId: string, optionId: string): Promise<void> {
    const s = await this.opts.api.answerPermission(this.opts.sessionId, requestId, optionId);
    this.updateSession(s);
  }

  focusComposer(): void {
    this.input.focus();
  }

  private showError(message: string): void {
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

  private render(): void {
    const s = this._session;
    if (!s) {
      return;
    }
    this.node.dataset.state = s.state;
    this.dot.dataset.state = s.state;
    this.dot.title = stateLabel(s.state);
    this.titleEl.textContent = s.title || 'Untitled session';
    this.titleEl.title = s.title || '';
    this.metaEl.textContent = '';
    this.metaEl.appendChild(h('span', { class: 'jp-GlueSessionView-state', text: stateLabel(s.state) }));
    this.metaEl.appendChild(h('span', { class: 'jp-GlueSessionView-agent', text: s.agent }));
    this.metaEl.appendChild(h('span', { class: 'jp-GlueSessionView-cwd', text: shortPath(s.cwd), title: s.cwd }));
    // The log is the source of truth for how it last resumed; the row may lag behind it.
    const via = this.model.lastResumeVia ?? s.resumed_via;
    if (via) {
      this.metaEl.appendChild(
        h('span', { class: 'jp-GlueSessionView-resumed', text: RESUMED[via] ?? `resumed (${via})` })
      );
    }
    if (s.pending_permissions > 0) {
      this.metaEl.appendChild(
        h('span', {
          class: 'jp-GlueSessionView-waiting',
          text: s.pending_permissions === 1 ? 'waiting for your permission' : `${s.pending_permissions} permission requests waiting`
        })
      );
    }
    if (s.state === 'failed' && s.error) {
      this.metaEl.appendChild(h('span', { class: 'jp-GlueSessionView-failure', text: s.error, title: s.error }));
    }
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

  private updateTime(): void {
    const s = this._session;
    if (!s) {
      this.timeEl.textContent = '';
      return;
    }
    const now = Date.now() / 1000;
    const parts = [`elapsed ${formatDuration(now - s.created_at)}`];
    if (s.turns) {
      parts.push(`${s.turns} turn${s.turns === 1 ? '' : 's'}`);
    }
    const turnStart = this.model.currentTurnStart();
    if ((s.state === 'running' || s.state === 'interrupting') && turnStart) {
      parts.push(`this turn ${formatDuration(now - turnStart)}`);
    }
    if (s.state === 'paused' && s.paused_since) {
      parts.push(`paused for ${formatDuration(now - s.paused_since)}`);
    }
    if ((s.state === 'stopped' || s.state === 'failed') && s.exit_code !== null && s.exit_code !== undefined) {
      parts.push(`exit code ${s.exit_code}`);
    }
    this.timeEl.textContent = parts.join(' · ');
  }

  private updateControls(): void {
    const gone = this.streamStatus === 'gone';
    const state = gone ? undefined : this.state;
    for (const [control, b] of this.buttons) {
      b.disabled = gone || !!this.busy || !canControl(state, control);
      b.classList.toggle('jp-mod-busy', this.busy === control);
    }
    const action = sendAction(state);
    this.sendBtn.textContent = action === 'resume' ? 'Resume & send' : 'Send';
    this.sendBtn.disabled = gone || !!this.busy || !action || !this.input.value.trim();
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
      case 'interrupting':
        hint = 'The agent is working: wait for the turn to end, or interrupt it.';
        placeholder = 'You can type your next message now';
        break;
      case 'starting':
        hint = 'The agent is starting…';
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
      default:
        hint = `This session is ${state}: its transcript is read-only until you resume it. Sending resumes it with your message.`;
        placeholder = 'Message to resume with';
    }
    this.hint.textContent = hint;
    this.input.placeholder = placeholder;
  }
}
