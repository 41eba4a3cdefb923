/**
 * The transcript renderer: framework-free DOM, incremental, windowed.
 *
 * It draws a TranscriptModel and, on each change, appends new items and updates changed
 * ones in place (coalesced per animation frame). Only a window of items is in the DOM:
 * while following the live end it keeps the last `windowSize` items; scrolling towards
 * the top brings earlier items back a page at a time. So a 10,000-event transcript opens
 * on its last screen at once, and streams without re-rendering what is already shown.
 */
import {
  IMessageItem,
  IPermissionItem,
  IThoughtItem,
  IToolItem,
  ITranscriptChange,
  TranscriptItem,
  TranscriptModel,
  itemText
} from '../model';
import { renderContextChips } from './context-chips';
import { lineDiff, withContext } from './diff';
import { formatDuration, formatTime, h } from './dom';
import { renderMarkdown } from './markdown';

export interface ITranscriptViewOptions {
  model: TranscriptModel;
  /** Answer a permission request; the buttons go away when the answer event arrives. */
  onPermission?: (requestId: string, optionId: string) => Promise<void>;
  /** Items kept in the DOM while following the end. */
  windowSize?: number;
  /** Items brought back per step when scrolling up. */
  pageSize?: number;
  /** Shown while the transcript is empty. */
  emptyText?: string;
}

const STOP_REASONS: Record<string, string> = {
  end_turn: 'finished',
  cancelled: 'cancelled',
  failed: 'failed',
  stopped: 'stopped',
  max_tokens: 'hit the token limit',
  max_turn_requests: 'hit the request limit',
  refusal: 'refused',
  server_stopped: 'ended when the server stopped'
};

const TOOL_STATUS: Record<string, string> = {
  pending: 'pending',
  in_progress: 'running',
  completed: 'done',
  failed: 'failed',
  cancelled: 'cancelled'
};

export class TranscriptView {
  /** The scrolling container. */
  readonly node: HTMLElement;
  private readonly list: HTMLElement;
  private readonly more: HTMLButtonElement;
  private readonly empty: HTMLElement;
  private readonly model: TranscriptModel;
  private readonly opts: Required<Omit<ITranscriptViewOptions, 'onPermission'>> &
    Pick<ITranscriptViewOptions, 'onPermission'>;
  private start = 0;
  private end = 0;
  private readonly nodes = new Map<number, HTMLElement>();
  private readonly dirty = new Set<TranscriptItem>();
  private needsReset = false;
  private frame = 0;
  private follow = true;
  private disconnect: () => void;
  private readonly permissionBusy = new Map<string, string>();
  private readonly permissionErrors = new Map<string, string>();
  private disposed = false;
  /** items.length when the window last reached the live end. */
  private renderedLiveEnd = 0;
  /** Set while we move the scroll position ourselves. */
  private adjusting = false;

  constructor(options: ITranscriptViewOptions) {
    this.model = options.model;
    this.opts = {
      windowSize: 200,
      pageSize: 60,
      emptyText: 'Nothing here yet.',
      ...options
    };
    this.more = h('button', { class: 'jp-GlueTranscript-more', type: 'button' });
    this.more.addEventListener('click', () => this.showEarlier());
    this.list = h('div', { class: 'jp-GlueTranscript-list', role: 'log', 'aria-live': 'polite' });
    this.empty = h('div', { class: 'jp-GlueTranscript-empty', text: this.opts.emptyText });
    this.node = h('div', { class: 'jp-GlueTranscript' }, this.more, this.empty, this.list);
    this.node.addEventListener('scroll', this.onScroll, { passive: true });
    this.disconnect = this.model.changed.connect(change => this.onChange(change));
    this.needsReset = true;
    this.schedule();
  }

  dispose(): void {
    this.disposed = true;
    this.disconnect();
    if (this.frame) {
      cancelAnimationFrame(this.frame);
    }
    this.node.removeEventListener('scroll', this.onScroll);
  }

  /** Number of items currently in the DOM. */
  get renderedCount(): number {
    return this.end - this.start;
  }

  /** Render pending changes now (tests and benchmarks). */
  flushNow(): void {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    this.flush();
  }

  scrollToEnd(): void {
    this.follow = true;
    if (this.end < this.model.items.length) {
      // The window was scrolled away from the live end: jump back to it.
      this.needsReset = true;
      this.flushNow();
    }
    this.node.scrollTop = this.node.scrollHeight;
  }

  private onChange(change: ITranscriptChange): void {
    if (change.reset) {
      this.needsReset = true;
      this.dirty.clear();
    }
    for (const item of change.updated) {
      this.dirty.add(item);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.frame || this.disposed) {
      return;
    }
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.flush();
    });
  }

  private atBottom(): boolean {
    const n = this.node;
    return n.scrollHeight - n.scrollTop - n.clientHeight < 48;
  }

  private onScroll = (): void => {
    if (!this.node.clientHeight || this.adjusting) {
      return;
    }
    this.follow = this.atBottom() && this.end >= this.model.items.length;
    if (this.node.scrollTop < 400 && this.start > 0) {
      this.showEarlier();
    } else if (
      this.end < this.model.items.length &&
      this.node.scrollHeight - this.node.scrollTop - this.node.clientHeight < 400
    ) {
      this.showLater();
    }
  };

  private flush(): void {
    if (this.disposed) {
      return;
    }
    const items = this.model.items;
    const follow = this.follow;
    if (this.needsReset) {
      this.needsReset = false;
      this.list.textContent = '';
      this.nodes.clear();
      this.start = this.end = this.renderedLiveEnd = Math.max(0, items.length - this.opts.windowSize);
    }
    // Updates in place, for rendered items only (others render fresh when shown).
    for (const item of this.dirty) {
      const el = this.nodes.get(item.index);
      if (el) {
        this.fill(el, item);
      }
    }
    this.dirty.clear();
    // Appends, when the window shows the live end (otherwise scrolling down brings them).
    const atLiveEnd = this.end >= this.renderedLiveEnd;
    if (items.length > this.end && atLiveEnd) {
      if (follow && items.length - this.end > this.opts.windowSize) {
        // Too far behind: jump the window to the end rather than render everything.
        this.list.textContent = '';
        this.nodes.clear();
        this.start = this.end = items.length - this.opts.windowSize;
      }
      const frag = document.createDocumentFragment();
      for (let i = this.end; i < items.length; i++) {
        frag.appendChild(this.create(items[i]));
      }
      this.list.appendChild(frag);
      this.end = items.length;
    }
    this.renderedLiveEnd = items.length;
    if (follow) {
      // Keep the DOM bounded while following the live end.
      while (this.end - this.start > this.opts.windowSize) {
        const el = this.nodes.get(this.start);
        el?.remove();
        this.nodes.delete(this.start);
        this.start++;
      }
    }
    this.updateChrome();
    if (follow) {
      this.node.scrollTop = this.node.scrollHeight;
    }
  }

  private updateChrome(): void {
    this.empty.style.display = this.model.items.length ? 'none' : '';
    if (this.start > 0) {
      this.more.style.display = '';
      this.more.textContent = `Show earlier (${this.start} more)`;
    } else {
      this.more.style.display = 'none';
    }
  }

  /** Bring back up to `pageSize` earlier items, keeping what is on screen in place. */
  showEarlier(): void {
    if (this.start === 0) {
      return;
    }
    const items = this.model.items;
    const from = Math.max(0, this.start - this.opts.pageSize);
    const frag = document.createDocumentFragment();
    for (let i = from; i < this.start; i++) {
      frag.appendChild(this.create(items[i]));
    }
    const anchor = this.list.firstElementChild as HTMLElement | null;
    const anchorTop = anchor ? anchor.offsetTop - this.node.scrollTop : 0;
    this.list.insertBefore(frag, this.list.firstChild);
    this.start = from;
    // Keep the DOM bounded: drop the far end (scrolling down brings it back).
    while (this.end - this.start > this.maxDom) {
      this.end--;
      this.nodes.get(this.end)?.remove();
      this.nodes.delete(this.end);
    }
    this.updateChrome();
    if (anchor) {
      this.scrollTo(anchor.offsetTop - anchorTop);
    }
    this.follow = false;
  }

  /** Bring back up to `pageSize` later items (after scrolling up and down again). */
  showLater(): void {
    const items = this.model.items;
    if (this.end >= items.length) {
      return;
    }
    const to = Math.min(items.length, this.end + this.opts.pageSize);
    const frag = document.createDocumentFragment();
    for (let i = this.end; i < to; i++) {
      frag.appendChild(this.create(items[i]));
    }
    this.list.appendChild(frag);
    this.end = to;
    if (this.end - this.start > this.maxDom) {
      const keep = this.nodes.get(this.end - this.maxDom);
      const keepTop = keep ? keep.offsetTop - this.node.scrollTop : 0;
      while (this.end - this.start > this.maxDom) {
        this.nodes.get(this.start)?.remove();
        this.nodes.delete(this.start);
        this.start++;
      }
      if (keep) {
        this.scrollTo(keep.offsetTop - keepTop);
      }
    }
    this.updateChrome();
  }

  private scrollTo(top: number): void {
    this.adjusting = true;
    this.node.scrollTop = top;
    requestAnimationFrame(() => (this.adjusting = false));
  }

  private get maxDom(): number {
    return this.opts.windowSize * 3;
  }

  private create(item: TranscriptItem): HTMLElement {
    const el = h('div', { class: `jp-GlueItem jp-GlueItem-${item.type}`, 'data-index': item.index });
    this.fill(el, item);
    this.nodes.set(item.index, el);
    return el;
  }

  private fill(el: HTMLElement, item: TranscriptItem): void {
    switch (item.type) {
      case 'user':
        el.textContent = '';
        el.appendChild(
          h('div', { class: 'jp-GlueItem-label', title: formatTime(item.ts) }, 'You')
        );
        el.appendChild(h('div', { class: 'jp-GlueItem-userText', text: item.text }));
        el.append(renderContextChips(item.context) ?? '');
        break;
      case 'message':
        this.fillMessage(el, item);
        break;
      case 'thought':
        this.fillThought(el, item);
        break;
      case 'tool':
        this.fillTool(el, item);
        break;
      case 'plan': {
        el.textContent = '';
        el.appendChild(h('div', { class: 'jp-GlueItem-label' }, 'Plan'));
        const ul = h('ul', { class: 'jp-GluePlan' });
        for (const e of item.entries) {
          const status = String(e.status || 'pending');
          ul.appendChild(
            h(
              'li',
              { class: `jp-GluePlan-entry jp-mod-${status}`, 'data-status': status },
              h('span', { class: 'jp-GluePlan-box', 'aria-hidden': 'true' }),
              h('span', { class: 'jp-GluePlan-text', text: e.content })
            )
          );
        }
        el.appendChild(ul);
        break;
      }
      case 'permission':
        this.fillPermission(el, item);
        break;
      case 'turn_end': {
        el.textContent = '';
        el.dataset.stopReason = item.stopReason;
        const reason = STOP_REASONS[item.stopReason] ?? item.stopReason;
        const parts = [`Turn ${item.turn ?? ''} ${reason}`.replace(/\s+/g, ' ')];
        if (item.duration !== null) {
          parts.push(formatDuration(item.duration));
        }
        el.appendChild(h('div', { class: 'jp-GlueTurnEnd-rule' }, h('span', {}, parts.join(' · '))));
        if (item.files.length) {
          const files = h('div', { class: 'jp-GlueTurnEnd-files' }, 'Files touched: ');
          item.files.forEach(f => files.appendChild(h('code', { class: 'jp-GlueFile', text: f })));
          el.appendChild(files);
        }
        if (item.commands.length) {
          const commands = h('div', { class: 'jp-GlueTurnEnd-files' }, 'Commands run: ');
          item.commands.forEach(c => commands.appendChild(h('code', { class: 'jp-GlueFile', text: c })));
          el.appendChild(commands);
        }
        break;
      }
      case 'line': {
        el.textContent = '';
        el.dataset.level = item.level;
        el.dataset.variant = item.variant;
        el.appendChild(h('span', { class: 'jp-GlueLine-text', title: formatTime(item.ts) }, item.text));
        if (item.detail && item.detail.length) {
          el.appendChild(h('pre', { class: 'jp-GlueLine-detail', text: item.detail.join('\n') }));
        }
        break;
      }
    }
  }

  private fillMessage(el: HTMLElement, item: IMessageItem): void {
    let body = el.querySelector<HTMLElement>('.jp-GlueMarkdown');
    if (!body) {
      el.textContent = '';
      el.appendChild(h('div', { class: 'jp-GlueItem-label', title: formatTime(item.ts) }, 'Agent'));
      body = h('div', { class: 'jp-GlueMarkdown jp-RenderedHTMLCommon' });
      el.appendChild(body);
    }
    renderMarkdown(body, itemText(item));
  }

  private fillThought(el: HTMLElement, item: IThoughtItem): void {
    let details = el.querySelector('details');
    if (!details) {
      el.textContent = '';
      details = h(
        'details',
        { class: 'jp-GlueThought' },
        h('summary', {}, h('span', { class: 'jp-GlueThought-label' }, 'Thought'), h('span', { class: 'jp-GlueThought-preview' })),
        h('div', { class: 'jp-GlueThought-text' })
      );
      el.appendChild(details);
    }
    const text = itemText(item);
    const preview = text.trim().split('\n')[0];
    details.querySelector('.jp-GlueThought-preview')!.textContent =
      preview.length > 120 ? preview.slice(0, 119) + '…' : preview;
    details.querySelector('.jp-GlueThought-text')!.textContent = text;
  }

  private fillTool(el: HTMLElement, item: IToolItem): void {
    const prev = el.querySelector('details');
    const hasDiff = item.content.some(c => c.type === 'diff');
    const open = prev ? prev.open : hasDiff;
    el.textContent = '';
    el.dataset.status = item.status;
    const status = TOOL_STATUS[item.status] ?? item.status;
    const summary = h(
      'summary',
      {},
      h('span', { class: 'jp-GlueTool-status', 'data-status': item.status, title: status }),
      h('span', { class: 'jp-GlueTool-kind', text: item.kind }),
      h('span', { class: 'jp-GlueTool-title', text: item.title }),
      h('span', { class: 'jp-GlueTool-statusText', text: status })
    );
    const body = h('div', { class: 'jp-GlueTool-body' });
    if (item.locations.length) {
      const locs = h('div', { class: 'jp-GlueTool-locations' });
      for (const loc of item.locations) {
        locs.appendChild(
          h('code', { class: 'jp-GlueFile', text: loc.line ? `${loc.path}:${loc.line}` : loc.path })
        );
      }
      body.appendChild(locs);
    }
    let hasOutput = false;
    for (const c of item.content) {
      if (c.type === 'text') {
        hasOutput = true;
        body.appendChild(h('pre', { class: 'jp-GlueTool-output', text: String((c as any).text ?? '') }));
      } else if (c.type === 'diff') {
        hasOutput = true;
        body.appendChild(this.renderDiff(c as any));
      } else if (c.type === 'terminal') {
        hasOutput = true;
        body.appendChild(h('div', { class: 'jp-GlueTool-terminal', text: `Terminal ${(c as any).terminal_id}` }));
      } else if ((c as any).content?.type === 'text') {
        // ACP's {type: "content", content: {type: "text", text}} form.
        hasOutput = true;
        body.appendChild(h('pre', { class: 'jp-GlueTool-output', text: String((c as any).content.text ?? '') }));
      }
    }
    if (!hasOutput && item.rawOutput !== undefined && item.rawOutput !== null) {
      body.appendChild(h('pre', { class: 'jp-GlueTool-output', text: stringify(item.rawOutput) }));
    }
    if (item.rawInput !== undefined && item.rawInput !== null) {
      body.appendChild(
        h(
          'details',
          { class: 'jp-GlueTool-input' },
          h('summary', {}, 'Input'),
          h('pre', { text: stringify(item.rawInput) })
        )
      );
    }
    if (!body.childNodes.length) {
      body.appendChild(h('div', { class: 'jp-GlueTool-nothing', text: 'No output yet.' }));
    }
    const details = h('details', { class: 'jp-GlueTool' }, summary, body);
    details.open = open;
    el.appendChild(details);
  }

  private renderDiff(c: { path: string; old_text: string | null; new_text: string }): HTMLElement {
    const lines = withContext(lineDiff(c.old_text, c.new_text));
    const pre = h('pre', { class: 'jp-GlueDiff-lines' });
    for (const l of lines) {
      const cls =
        l.op === '+' ? 'jp-mod-added' : l.op === '-' ? 'jp-mod-removed' : l.op === '…' ? 'jp-mod-skip' : '';
      pre.appendChild(h('span', { class: `jp-GlueDiff-line ${cls}`, text: `${l.op === '…' ? '⋯' : l.op} ${l.text}\n` }));
    }
    return h(
      'div',
      { class: 'jp-GlueDiff' },
      h('div', { class: 'jp-GlueDiff-path' }, c.old_text ? 'Edit ' : 'New file ', h('code', { text: c.path })),
      pre
    );
  }

  private fillPermission(el: HTMLElement, item: IPermissionItem): void {
    el.textContent = '';
    el.dataset.answered = item.answer ? 'true' : 'false';
    el.appendChild(
      h(
        'div',
        { class: 'jp-GluePermission-title' },
        h('span', { class: 'jp-GluePermission-icon', 'aria-hidden': 'true' }),
        item.answer ? 'Permission asked: ' : 'The agent asks permission: ',
        h('strong', { text: item.toolTitle })
      )
    );
    if (item.answer) {
      let text: string;
      if (item.answer.outcome === 'cancelled') {
        text = 'Withdrawn — no answer was needed any more.';
      } else {
        text = `Answered: ${item.answer.optionName ?? item.answer.optionId ?? 'selected'}`;
      }
      el.appendChild(h('div', { class: 'jp-GluePermission-answer', text }));
      this.permissionBusy.delete(item.requestId);
      this.permissionErrors.delete(item.requestId);
      return;
    }
    const busy = this.permissionBusy.get(item.requestId);
    const row = h('div', { class: 'jp-GluePermission-options' });
    for (const opt of item.options) {
      const allow = opt.kind.startsWith('allow');
      const btn = h('button', {
        type: 'button',
        class: `jp-GlueButton ${allow ? 'jp-mod-accept' : 'jp-mod-reject'}`,
        'data-option-id': opt.option_id,
        'data-kind': opt.kind,
        disabled: !!busy || !this.opts.onPermission
      });
      btn.textContent = busy === opt.option_id ? `${opt.name}…` : opt.name;
      btn.addEventListener('click', () => this.answer(item, opt.option_id));
      row.appendChild(btn);
    }
    el.appendChild(row);
    const err = this.permissionErrors.get(item.requestId);
    if (err) {
      el.appendChild(h('div', { class: 'jp-GlueError', text: err }));
    }
  }

  private async answer(item: IPermissionItem, optionId: string): Promise<void> {
    if (!this.opts.onPermission || this.permissionBusy.has(item.requestId)) {
      return;
    }
    this.permissionBusy.set(item.requestId, optionId);
    this.permissionErrors.delete(item.requestId);
    this.rerender(item);
    try {
      await this.opts.onPermission(item.requestId, optionId);
    } catch (err) {
      this.permissionBusy.delete(item.requestId);
      this.permissionErrors.set(item.requestId, (err as Error).message ?? String(err));
      this.rerender(item);
    }
  }

  private rerender(item: TranscriptItem): void {
    const el = this.nodes.get(item.index);
    if (el) {
      this.fill(el, item);
    }
  }
}

function stringify(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  try {
    const s = JSON.stringify(value, null, 2);
    return s.length > 20000 ? s.slice(0, 20000) + '\n…' : s;
  } catch {
    return String(value);
  }
}
