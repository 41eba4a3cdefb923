/**
 * The workspace part of a session view: what the agent did to the files and what waits to
 * be sent. It owns
 *  - the transcript's actions (show a turn's diffs, rewind with a preview and a confirmation,
 *    undo a rewind, fork from a turn, open a fork),
 *  - the worktree bar in the header (branch, commits ahead of its base, changes against the
 *    base, Merge, Discard) for a session with a worktree of its own,
 *  - the queued messages at the end of the transcript (edit, remove, send now),
 *  - the composer's "Send now" button (interrupt — or steer — and send, in one action).
 */
import type { GlueAPI } from '../client';
import { h } from '../transcript/dom';
import type { IEvent, ISession } from '../types';
import { counts, renderChanges, summaryText } from './changes-view';
import { confirmInView } from './dialog';
import type { IWorkspaceActions } from './transcript-items';
import type { IChanges, IQueuedMessage, IWorktreeStatus, RewindTarget } from './types';

/** What the controller needs from its session view. */
export interface IWorkspaceHost {
  readonly node: HTMLElement;
  readonly session: ISession | null;
  showError(message: string): void;
  updateSession(s: ISession): void;
  /** The composer's text (taken by "Send now"), and clearing it once sent. */
  takeComposerText(): string;
  clearComposer(): void;
  openSession?: (id: string) => void;
}

const RUNNING = new Set(['running', 'interrupting', 'starting']);
const REFRESH_WORKTREE = new Set(['turn_changes', 'merge', 'discard', 'rewind']);

export class WorkspaceController {
  /** Under the session's title: the worktree's branch and its actions (empty otherwise). */
  readonly headerNode: HTMLElement;
  /** At the end of the transcript: the messages waiting for the turn to end. */
  readonly queueNode: HTMLElement;
  /** In the composer, while a turn runs. */
  readonly sendNowButton: HTMLButtonElement;
  readonly actions: IWorkspaceActions;

  private worktree: IWorktreeStatus | null = null;
  private worktreeTimer: ReturnType<typeof setTimeout> | null = null;
  private editing: string | null = null;
  private queueKey = '';
  private disposed = false;

  constructor(
    private readonly host: IWorkspaceHost,
    private readonly api: GlueAPI,
    private readonly sessionId: string
  ) {
    this.headerNode = h('div', { class: 'jp-GlueWorktree' });
    this.headerNode.style.display = 'none';
    this.queueNode = h('div', { class: 'jp-GlueQueue', 'aria-label': 'Queued messages' });
    this.queueNode.style.display = 'none';
    this.sendNowButton = h('button', {
      type: 'button',
      class: 'jp-GlueButton jp-GlueComposer-now',
      title: 'Interrupt the turn and send this message at once (the agent takes it mid-turn where it can)',
      text: 'Send now'
    });
    this.sendNowButton.style.display = 'none';
    this.sendNowButton.addEventListener('click', () => void this.sendNow());
    this.actions = {
      loadChanges: turn => this.api.changes(this.sessionId, turn),
      rewind: (target, label) => this.rewind(target, label),
      fork: turn => this.fork(turn),
      openSession: id => this.openSession(id),
      rewindBlocked: () => this.rewindBlocked()
    };
  }

  dispose(): void {
    this.disposed = true;
    if (this.worktreeTimer) {
      clearTimeout(this.worktreeTimer);
    }
  }

  /** A newer copy of the session: queue, worktree bar, composer. */
  update(s: ISession): void {
    this.renderQueue(s.queue ?? []);
    this.sendNowButton.style.display = s.state === 'running' ? '' : 'none';
    const tree = s.workspace?.worktree;
    if (!tree) {
      this.headerNode.style.display = 'none';
      return;
    }
    this.headerNode.style.display = '';
    if (!this.worktree || this.worktree.path !== tree.path) {
      this.worktree = null;
      this.renderWorktree(s);
      this.scheduleWorktree(0);
    }
  }

  onEvents(events: IEvent[]): void {
    if (events.some(e => REFRESH_WORKTREE.has(e.kind)) && this.host.session?.workspace?.worktree) {
      this.scheduleWorktree(300);
    }
  }

  /** Enabled state of "Send now" follows the composer's text. */
  composerChanged(hasText: boolean, busy: boolean): void {
    this.sendNowButton.disabled = busy || !hasText;
  }

  // -- rewind ---------------------------------------------------------------------------

  private rewindBlocked(): string | null {
    const state = this.host.session?.state;
    if (state && RUNNING.has(state)) {
      return 'The agent is working: wait for the turn to end, or interrupt it, before rewinding its files.';
    }
    return null;
  }

  private async rewind(target: RewindTarget, label: string): Promise<void> {
    const blocked = this.rewindBlocked();
    if (blocked) {
      this.host.showError(blocked);
      return;
    }
    const preview = this.api.rewindPreview(this.sessionId, target);
    const body = preview.then(changes => {
      const node = h('div', { class: 'jp-GlueRewind' });
      if (!changes.changes.length) {
        node.appendChild(h('p', { text: `The files are already as they were ${label}: nothing to rewind.` }));
        node.dataset.empty = 'true';
        return node;
      }
      node.appendChild(
        h('p', {}, `These files go back to how they were ${label} (`, summaryText(changes), '):')
      );
      node.appendChild(renderChanges(changes, { open: false }));
      node.appendChild(
        h('p', {
          class: 'jp-GlueRewind-note',
          text:
            'The files as they are now are kept in a checkpoint first, so the rewind can be undone. ' +
            'The conversation is not rewound.'
        })
      );
      return node;
    });
    const ok = await confirmInView(this.host.node, {
      title: `Rewind files to ${label}?`,
      body,
      confirmLabel: 'Rewind files',
      danger: true,
      canConfirm: node => node.dataset.empty !== 'true'
    });
    if (!ok) {
      return;
    }
    try {
      const done = await this.api.rewind(this.sessionId, target);
      this.host.updateSession(done.session);
    } catch (err) {
      this.host.showError((err as Error).message);
    }
  }

  // -- fork -----------------------------------------------------------------------------

  private async fork(turn: number): Promise<void> {
    try {
      const child = await this.api.fork(this.sessionId, { turn });
      this.openSession(child.id, child.title);
    } catch (err) {
      this.host.showError((err as Error).message);
    }
  }

  private openSession(id: string, title?: string): void {
    if (this.host.openSession) {
      this.host.openSession(id);
    } else {
      this.host.showError(
        `Session ${title ? `“${title}” ` : ''}(${id.slice(0, 8)}) is in the Agent sessions panel; in a notebook: %glue show ${id.slice(0, 8)}`
      );
    }
  }

  // -- queue ----------------------------------------------------------------------------

  private async sendNow(): Promise<void> {
    const text = this.host.takeComposerText();
    if (!text) {
      return;
    }
    this.sendNowButton.disabled = true;
    try {
      const s = await this.api.prompt(this.sessionId, text, undefined, 'now');
      this.host.clearComposer();
      this.host.updateSession(s);
    } catch (err) {
      this.host.showError((err as Error).message);
    } finally {
      this.sendNowButton.disabled = false;
    }
  }

  private renderQueue(queue: IQueuedMessage[]): void {
    const key = JSON.stringify(queue.map(q => [q.id, q.text, q.now])) + `|${this.editing}`;
    if (key === this.queueKey) {
      return;
    }
    this.queueKey = key;
    this.queueNode.textContent = '';
    this.queueNode.style.display = queue.length ? '' : 'none';
    if (!queue.length) {
      return;
    }
    this.queueNode.appendChild(
      h('div', {
        class: 'jp-GlueQueue-heading',
        text: queue.length === 1 ? 'Queued: sent when the turn ends' : `${queue.length} queued: sent one per turn when the turn ends`
      })
    );
    queue.forEach((item, index) => this.queueNode.appendChild(this.renderQueued(item, index)));
  }

  private renderQueued(item: IQueuedMessage, index: number): HTMLElement {
    const row = h('div', { class: 'jp-GlueQueue-item', 'data-id': item.id });
    row.appendChild(h('div', { class: 'jp-GlueItem-label', text: `You · queued${item.now ? ' (next)' : ` #${index + 1}`}` }));
    if (this.editing === item.id) {
      const area = h('textarea', { class: 'jp-GlueQueue-edit', rows: 2, 'aria-label': 'Edit the queued message' });
      area.value = item.text;
      const save = h('button', { type: 'button', class: 'jp-GlueButton jp-mod-accept', text: 'Save' });
      const cancel = h('button', { type: 'button', class: 'jp-GlueButton', text: 'Cancel' });
      save.addEventListener('click', () => void this.queueAction(() => this.api.editQueued(this.sessionId, item.id, area.value.trim()), true));
      cancel.addEventListener('click', () => {
        this.editing = null;
        this.rerenderQueue();
      });
      area.addEventListener('keydown', ev => {
        ev.stopPropagation();
        if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
          ev.preventDefault();
          save.click();
        } else if (ev.key === 'Escape') {
          cancel.click();
        }
      });
      row.appendChild(area);
      row.appendChild(h('div', { class: 'jp-GlueQueue-buttons' }, cancel, save));
      requestAnimationFrame(() => area.focus());
      return row;
    }
    row.appendChild(h('div', { class: 'jp-GlueItem-userText', text: item.text }));
    const edit = h('button', { type: 'button', class: 'jp-GlueButton', text: 'Edit', title: 'Change the message before it is sent' });
    const remove = h('button', { type: 'button', class: 'jp-GlueButton', text: 'Remove', title: 'Never send this message' });
    const now = h('button', {
      type: 'button',
      class: 'jp-GlueButton jp-mod-accept',
      text: 'Send now',
      title: 'Interrupt the turn and send this message at once'
    });
    edit.addEventListener('click', () => {
      this.editing = item.id;
      this.rerenderQueue();
    });
    remove.addEventListener('click', () => void this.queueAction(() => this.api.removeQueued(this.sessionId, item.id)));
    now.addEventListener('click', () => void this.queueAction(() => this.api.sendQueuedNow(this.sessionId, item.id)));
    row.appendChild(h('div', { class: 'jp-GlueQueue-buttons' }, edit, remove, now));
    return row;
  }

  private rerenderQueue(): void {
    this.queueKey = '';
    this.renderQueue(this.host.session?.queue ?? []);
  }

  private async queueAction(call: () => Promise<ISession>, endsEdit = false): Promise<void> {
    try {
      const s = await call();
      if (endsEdit) {
        this.editing = null;
      }
      this.host.updateSession(s);
      this.rerenderQueue();
    } catch (err) {
      this.host.showError((err as Error).message);
      if (endsEdit) {
        this.editing = null;
        this.rerenderQueue();
      }
    }
  }

  // -- worktree -------------------------------------------------------------------------

  private scheduleWorktree(delay: number): void {
    if (this.worktreeTimer || this.disposed) {
      return;
    }
    this.worktreeTimer = setTimeout(async () => {
      this.worktreeTimer = null;
      try {
        this.worktree = await this.api.worktree(this.sessionId);
      } catch {
        return; // the bar keeps what it showed; the next change tries again
      }
      if (!this.disposed && this.host.session) {
        this.renderWorktree(this.host.session);
      }
    }, delay);
  }

  private renderWorktree(s: ISession): void {
    const tree = s.workspace?.worktree;
    if (!tree) {
      return;
    }
    const status = this.worktree;
    this.headerNode.textContent = '';
    this.headerNode.appendChild(h('span', { class: 'jp-GlueWorktree-icon', 'aria-hidden': 'true', text: '⎇' }));
    this.headerNode.appendChild(h('code', { class: 'jp-GlueWorktree-branch', title: tree.path, text: tree.branch }));
    const base = tree.base ?? tree.base_commit.slice(0, 12);
    if (status) {
      const ahead = `${status.ahead} commit${status.ahead === 1 ? '' : 's'} ahead of ${base}`;
      const behind = status.behind ? `, ${status.behind} behind` : '';
      this.headerNode.appendChild(h('span', { class: 'jp-GlueWorktree-ahead', text: ahead + behind }));
      if (status.files) {
        this.headerNode.appendChild(
          h('span', { class: 'jp-GlueWorktree-changes' }, `${status.files} file${status.files === 1 ? '' : 's'} `, counts(status.added, status.removed))
        );
      } else {
        this.headerNode.appendChild(h('span', { class: 'jp-GlueWorktree-changes', text: `no changes against ${base}` }));
      }
    } else {
      this.headerNode.appendChild(h('span', { class: 'jp-GlueWorktree-ahead', text: `from ${base}` }));
    }
    const diff = h('button', { type: 'button', class: 'jp-GlueButton', text: 'Changes', title: `Everything this worktree changed against ${base}` });
    diff.addEventListener('click', () => void this.showWorktreeChanges(base));
    const merge = h('button', {
      type: 'button',
      class: 'jp-GlueButton jp-mod-accept',
      text: 'Merge',
      title: tree.base ? `Commit this worktree's work and merge ${tree.branch} into ${tree.base}` : 'The worktree was made from a detached HEAD: nothing to merge into',
      disabled: !tree.base || (status !== null && !status.ahead && !status.files)
    });
    merge.addEventListener('click', () => void this.merge());
    const discard = h('button', { type: 'button', class: 'jp-GlueButton jp-mod-reject', text: 'Discard…', title: "Throw away this worktree's work" });
    discard.addEventListener('click', () => void this.discard(tree.branch, base));
    this.headerNode.appendChild(h('span', { class: 'jp-GlueWorktree-buttons' }, diff, merge, discard));
  }

  private async showWorktreeChanges(base: string): Promise<void> {
    const body = this.api.worktree(this.sessionId).then(status => {
      this.worktree = status;
      return h(
        'div',
        {},
        h('p', { text: `${summaryText(status)} against ${base} (committed and uncommitted work).` }),
        renderChanges(status as IChanges)
      );
    });
    await confirmInView(this.host.node, { title: `Changes against ${base}`, body, confirmLabel: 'Close' });
  }

  private async merge(): Promise<void> {
    await this.worktreeAction('merge');
  }

  /** False (and says why) while the agent may be writing in the worktree. */
  private quiet(action: string): boolean {
    if (this.rewindBlocked()) {
      this.host.showError(`The agent is working: wait for the turn to end, or interrupt it, before you ${action}.`);
      return false;
    }
    return true;
  }

  /** Merge or discard, once nothing may be writing in the worktree. */
  private async worktreeAction(action: 'merge' | 'discard'): Promise<void> {
    if (!this.quiet(action)) {
      return;
    }
    try {
      const done = await this.api.worktreeAction(this.sessionId, action);
      this.host.updateSession(done.session);
      this.scheduleWorktree(0);
    } catch (err) {
      this.host.showError((err as Error).message);
    }
  }

  private async discard(branch: string, base: string): Promise<void> {
    if (!this.quiet('discard')) {
      return;
    }
    const body = this.api.worktree(this.sessionId).then(status =>
      h(
        'div',
        { class: 'jp-GlueRewind' },
        h('p', {
          text: `Everything on ${branch} that ${base} does not have goes: ${status.ahead} commit${status.ahead === 1 ? '' : 's'} and ${summaryText(status)}.`
        }),
        renderChanges(status as IChanges, { open: false }),
        h('p', { class: 'jp-GlueRewind-note', text: 'A checkpoint keeps it until the session is forgotten: the transcript offers to undo the discard.' })
      )
    );
    const ok = await confirmInView(this.host.node, {
      title: `Discard the work on ${branch}?`,
      body,
      confirmLabel: 'Discard',
      danger: true
    });
    if (ok) {
      await this.worktreeAction('discard');
    }
  }
}
