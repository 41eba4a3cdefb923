/**
 * The transcript renderer: framework-free DOM, incremental, windowed.
 *
 * It draws a TranscriptModel and, on each change, appends new items and updates changed
 * ones in place (coalesced per animation frame). Only a window of items is in the DOM:
 * while following the live end it keeps the last `windowSize` items; scrolling towards
 * the top brings earlier items back a page at a time. So a 10,000-event transcript opens
 * on its last screen at once, and streams without re-rendering what is already shown.
 *
 * Following: while the user is at the bottom the view stays pinned there, whatever grows
 * (new items, a reply streaming in, late layout of off-screen items); only the user scrolling
 * up stops it, and then a "Jump to latest" button brings them back.
 */
import { Emitter, ITranscriptChange, TranscriptItem, TranscriptModel } from '../model';
import { IBlockContext } from './blocks';
import { h, icon } from './dom';
import { FindBar, IFindMatch, findMatches, highlights, rangesIn } from './find';
import { plainHost } from './host';
import { ItemRenderer, searchText } from './items';
import type { IWorkspaceActions } from '../workspace/transcript-items';

export interface ITranscriptViewOptions {
  model: TranscriptModel;
  /** Answer a permission request; the buttons go away when the answer event arrives. */
  onPermission?: (requestId: string, optionId: string) => Promise<void>;
  /** Host, session and folder (code highlighting, file links, code-block actions). */
  context?: () => IBlockContext;
  /** Items kept in the DOM while following the end. */
  windowSize?: number;
  /** Items brought back per step when scrolling up. */
  pageSize?: number;
  /** Shown while the transcript is empty. */
  emptyText?: string;
  /** What a turn's changes, a rewind or a fork offer to do (src/workspace/controller.ts). */
  workspaceActions?: IWorkspaceActions;
}

/** Within this many pixels of the bottom counts as "at the bottom". */
const BOTTOM_SLACK = 48;

export class TranscriptView {
  /** The box: the scrolling transcript and the "Jump to latest" button over it. */
  readonly node: HTMLElement;
  /** The scrolling element. */
  readonly scroller: HTMLElement;
  readonly findBar = new FindBar();
  /** After each render and scroll (the session view checks whether the end is now seen). */
  readonly rendered = new Emitter<void>();
  private readonly list: HTMLElement;
  private readonly more: HTMLButtonElement;
  private readonly empty: HTMLElement;
  private readonly jump: HTMLButtonElement;
  private readonly model: TranscriptModel;
  private readonly renderer: ItemRenderer;
  private readonly context: () => IBlockContext;
  private readonly opts: Required<Pick<ITranscriptViewOptions, 'windowSize' | 'pageSize' | 'emptyText'>> &
    ITranscriptViewOptions;
  private start = 0;
  private end = 0;
  private readonly nodes = new Map<number, HTMLElement>();
  private readonly dirty = new Set<TranscriptItem>();
  private needsReset = false;
  private frame = 0;
  private follow = true;
  /** scrollTop after our last look: a smaller one means the user scrolled up. */
  private lastTop = 0;
  private disconnect: () => void;
  private disposed = false;
  /** items.length when the window last reached the live end. */
  private renderedLiveEnd = 0;
  /** Set while we move the scroll position ourselves. */
  private adjusting = false;
  private readonly resizes: ResizeObserver | null;
  private matches: IFindMatch[] = [];
  /** Occurrences of the query per item, in the model's text (for items not in the DOM). */
  private readonly modelCounts = new Map<number, number>();
  private currentEl: HTMLElement | null = null;
  private current = -1;
  private readonly ownedRanges = new Set<Range>();
  private readonly ownedCurrent: { range: Range | null } = { range: null };
  private findTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: ITranscriptViewOptions) {
    this.model = options.model;
    this.opts = { windowSize: 200, pageSize: 60, emptyText: 'Nothing here yet.', ...options };
    this.context = options.context ?? (() => ({ host: plainHost, sessionId: '', surface: 'lab', cwd: '' }));
    this.renderer = new ItemRenderer({
      context: this.context,
      onPermission: options.onPermission,
      workspaceActions: options.workspaceActions,
      redraw: item => this.redraw(item)
    });
    this.more = h('button', { class: 'jp-GlueTranscript-more', type: 'button' });
    this.more.addEventListener('click', () => this.showEarlier());
    this.list = h('div', { class: 'jp-GlueTranscript-list', role: 'log', 'aria-live': 'polite' });
    this.empty = h('div', { class: 'jp-GlueTranscript-empty', text: this.opts.emptyText });
    this.scroller = h('div', { class: 'jp-GlueTranscript', tabindex: 0 }, this.more, this.empty, this.list);
    this.jump = h('button', { type: 'button', class: 'jp-GlueTranscript-jump', title: 'Scroll to the newest output' });
    this.jump.append(icon('latest'), 'Jump to latest');
    this.jump.addEventListener('click', () => this.scrollToEnd());
    this.jump.style.display = 'none';
    this.node = h('div', { class: 'jp-GlueTranscriptBox' }, this.findBar.node, this.scroller, this.jump);
    this.scroller.addEventListener('scroll', this.onScroll, { passive: true });
    this.scroller.addEventListener('click', this.onClick);
    // Growth of any kind (late layout, a re-rendered reply, a resized pane) re-pins a follower.
    this.resizes = typeof ResizeObserver === 'function' ? new ResizeObserver(() => this.onResize()) : null;
    this.resizes?.observe(this.list);
    this.resizes?.observe(this.scroller);
    this.findBar.queryChanged.connect(() => this.runFind(true));
    this.findBar.step.connect(dir => this.stepFind(dir));
    this.findBar.closed.connect(() => this.clearFind());
    this.disconnect = this.model.changed.connect(change => this.onChange(change));
    this.needsReset = true;
    this.schedule();
  }

  dispose(): void {
    this.disposed = true;
    this.disconnect();
    this.rendered.clear();
    this.resizes?.disconnect();
    this.clearFind();
    if (this.frame) {
      cancelAnimationFrame(this.frame);
    }
    this.scroller.removeEventListener('scroll', this.onScroll);
  }

  /** Number of items currently in the DOM. */
  get renderedCount(): number {
    return this.end - this.start;
  }

  /** Whether the view shows the newest item at its bottom (following). */
  get atLiveEnd(): boolean {
    return this.follow && this.end >= this.model.items.length;
  }

  /** Render pending changes now (tests and benchmarks). */
  flushNow(): void {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    this.flush();
  }

  /** Follow the live end again, from wherever the window is. */
  scrollToEnd(): void {
    this.follow = true;
    if (this.end < this.model.items.length) {
      // The window was scrolled away from the live end: jump back to it.
      this.needsReset = true;
      this.flushNow();
    }
    this.pin();
    this.updateJump();
  }

  /** Bring item `index` into the window and scroll it into view (stops following). */
  reveal(index: number, block: ScrollLogicalPosition = 'center'): HTMLElement | null {
    const items = this.model.items;
    if (index < 0 || index >= items.length) {
      return null;
    }
    this.flushNow();
    if (index < this.start || index >= this.end) {
      // Re-window around the item.
      this.list.textContent = '';
      this.nodes.clear();
      this.start = Math.max(0, index - Math.floor(this.opts.pageSize / 2));
      this.end = Math.min(items.length, this.start + this.opts.windowSize);
      const frag = document.createDocumentFragment();
      for (let i = this.start; i < this.end; i++) {
        frag.appendChild(this.create(items[i]));
      }
      this.list.appendChild(frag);
      this.updateChrome();
    }
    const el = this.nodes.get(index) ?? null;
    if (el) {
      this.follow = index === items.length - 1 && this.end >= items.length;
      this.adjusting = true;
      el.scrollIntoView({ block });
      this.lastTop = this.scroller.scrollTop;
      requestAnimationFrame(() => (this.adjusting = false));
      this.updateJump();
    }
    return el;
  }

  // -- rendering ------------------------------------------------------------------------------

  private onChange(change: ITranscriptChange): void {
    if (change.reset) {
      this.needsReset = true;
      this.dirty.clear();
    }
    for (const item of change.updated) {
      this.dirty.add(item);
    }
    this.schedule();
    if (this.findBar.isOpen && this.findBar.query) {
      this.scheduleFind();
    }
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
        this.renderer.fill(el, item);
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
      this.pin();
    }
    this.updateChrome();
    this.updateJump();
    this.paintFind();
    this.rendered.emit();
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

  // -- following ------------------------------------------------------------------------------

  private atBottom(): boolean {
    const n = this.scroller;
    return n.scrollHeight - n.scrollTop - n.clientHeight < BOTTOM_SLACK;
  }

  /** Put the bottom in view (we are following). */
  private pin(): void {
    const n = this.scroller;
    if (!n.clientHeight) {
      return; // hidden (a background tab): pinned again when shown and resized
    }
    this.adjusting = true;
    n.scrollTop = n.scrollHeight;
    this.lastTop = n.scrollTop;
    requestAnimationFrame(() => (this.adjusting = false));
  }

  private onResize(): void {
    if (this.follow && !this.disposed) {
      this.pin();
    }
    this.updateJump();
  }

  private onScroll = (): void => {
    const n = this.scroller;
    if (!n.clientHeight) {
      return;
    }
    const top = n.scrollTop;
    if (!this.adjusting) {
      if (this.atBottom()) {
        // Back at the bottom: follow again once the window holds the live end.
        this.follow = this.end >= this.model.items.length;
      } else if (top < this.lastTop - 1) {
        // Only the user moves the view up; growth below never does.
        this.follow = false;
      }
    }
    this.lastTop = top;
    if (top < 400 && this.start > 0) {
      this.showEarlier();
    } else if (this.end < this.model.items.length && n.scrollHeight - top - n.clientHeight < 400) {
      this.showLater();
    }
    this.updateJump();
    this.rendered.emit();
  };

  private updateJump(): void {
    const away = !this.follow && (this.end < this.model.items.length || !this.atBottom());
    this.jump.style.display = away && this.model.items.length ? '' : 'none';
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
    const anchorTop = anchor ? anchor.offsetTop - this.scroller.scrollTop : 0;
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
    this.paintFind();
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
      const keepTop = keep ? keep.offsetTop - this.scroller.scrollTop : 0;
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
    this.paintFind();
  }

  private scrollTo(top: number): void {
    this.adjusting = true;
    this.scroller.scrollTop = top;
    this.lastTop = this.scroller.scrollTop;
    requestAnimationFrame(() => (this.adjusting = false));
  }

  private get maxDom(): number {
    return this.opts.windowSize * 3;
  }

  private create(item: TranscriptItem): HTMLElement {
    const el = h('div', { class: `jp-GlueItem jp-GlueItem-${item.type}`, 'data-index': item.index, 'data-seq': item.seq });
    this.renderer.fill(el, item);
    this.nodes.set(item.index, el);
    return el;
  }

  private redraw(item: TranscriptItem): void {
    const el = this.nodes.get(item.index);
    if (el) {
      this.renderer.fill(el, item);
    }
  }

  /** Redraw every rendered item (e.g. code-block actions changed). */
  redrawAll(): void {
    for (const [index, el] of this.nodes) {
      this.renderer.fill(el, this.model.items[index]);
    }
    this.paintFind();
  }

  private onClick = (ev: MouseEvent): void => {
    const link = (ev.target as HTMLElement).closest<HTMLElement>('[data-glue-open]');
    if (!link) {
      return;
    }
    ev.preventDefault();
    const host = this.context().host;
    const line = link.dataset.line ? Number(link.dataset.line) : undefined;
    host.openFile?.(link.dataset.glueOpen ?? '', line).catch(err => {
      link.title = `Could not open it: ${(err as Error).message}`;
      link.classList.add('jp-mod-broken');
    });
  };

  // -- find -------------------------------------------------------------------------------------

  /** Open the find bar (with `query`); jump to the first match at or after item `from`. */
  find(query?: string, from?: number): void {
    this.findBar.open(query);
    if (from !== undefined && this.matches.length) {
      const i = this.matches.findIndex(m => m.index >= from);
      this.current = i === -1 ? 0 : i;
      this.showCurrent();
    }
  }

  private scheduleFind(): void {
    if (this.findTimer) {
      return;
    }
    this.findTimer = setTimeout(() => {
      this.findTimer = null;
      this.runFind(false);
    }, 250);
  }

  /** Recompute the matches; `jump`: the query changed, go to the first match. */
  private runFind(jump: boolean): void {
    const query = this.findBar.query;
    const items = this.model.items;
    this.modelCounts.clear();
    for (const m of findMatches(i => searchText(items[i]), items.length, query)) {
      this.modelCounts.set(m.index, m.nth + 1);
    }
    if (jump) {
      this.rebuildMatches();
      this.current = this.matches.length ? this.firstVisibleMatch() : -1;
      this.showCurrent();
    } else {
      this.paintFind();
    }
  }

  /**
   * The matches, item by item: what is rendered counts as shown (its DOM text, with what the
   * renderer adds), the rest by its text in the model. Returns the DOM ranges of rendered items.
   */
  private rebuildMatches(): Map<number, Range[]> {
    const query = this.findBar.query;
    const shown = new Map<number, Range[]>();
    if (query) {
      for (const [index, el] of this.nodes) {
        shown.set(index, rangesIn(el, query));
      }
    }
    const before = this.matches[this.current];
    const indices = Array.from(new Set([...this.modelCounts.keys(), ...shown.keys()])).sort((a, b) => a - b);
    this.matches = [];
    for (const index of indices) {
      const n = shown.has(index) ? shown.get(index)!.length : this.modelCounts.get(index) ?? 0;
      for (let nth = 0; nth < n; nth++) {
        this.matches.push({ index, nth });
      }
    }
    if (before) {
      // The same match where it still is; else the nearest one after it.
      let at = this.matches.findIndex(m => m.index > before.index || (m.index === before.index && m.nth >= before.nth));
      if (at === -1) {
        at = this.matches.length - 1;
      }
      this.current = at;
    } else if (this.current >= this.matches.length) {
      this.current = this.matches.length - 1;
    }
    return shown;
  }

  /** The first match at or below the top of what is on screen (where a reader's eyes are). */
  private firstVisibleMatch(): number {
    const top = this.scroller.getBoundingClientRect().top;
    for (let i = 0; i < this.matches.length; i++) {
      const el = this.nodes.get(this.matches[i].index);
      if (el && el.getBoundingClientRect().bottom >= top) {
        return i;
      }
    }
    return 0;
  }

  private stepFind(dir: 1 | -1): void {
    if (!this.matches.length) {
      return;
    }
    this.current = (this.current + dir + this.matches.length) % this.matches.length;
    this.showCurrent();
  }

  private showCurrent(): void {
    const m = this.matches[this.current];
    if (m) {
      const el = this.reveal(m.index);
      const range = el ? rangesIn(el, this.findBar.query)[m.nth] : undefined;
      // Open what hides it (a collapsed thought or tool call), then bring it into view.
      let node: Node | null = range?.startContainer ?? null;
      while (node && node !== el) {
        if (node instanceof HTMLDetailsElement && !node.open) {
          node.open = true;
        }
        node = node.parentNode;
      }
      const rect = range?.getBoundingClientRect();
      const box = this.scroller.getBoundingClientRect();
      if (rect && (rect.top < box.top || rect.bottom > box.bottom)) {
        this.adjusting = true;
        this.scroller.scrollTop += rect.top - box.top - box.height / 2;
        this.lastTop = this.scroller.scrollTop;
        requestAnimationFrame(() => (this.adjusting = false));
      }
    }
    this.paintFind();
  }

  /** Highlight the matches in what is rendered, the current one apart; mark the current item. */
  private paintFind(): void {
    const query = this.findBar.query;
    const shown = this.rebuildMatches();
    this.findBar.setCount(this.current, this.matches.length);
    const cur = query ? this.matches[this.current] : undefined;
    const curEl = cur ? this.nodes.get(cur.index) ?? null : null;
    if (this.currentEl !== curEl) {
      this.currentEl?.classList.remove('jp-mod-findCurrent');
      curEl?.classList.add('jp-mod-findCurrent');
      this.currentEl = curEl;
    }
    const ranges: Range[] = [];
    let current: Range | null = null;
    for (const [index, found] of shown) {
      if (cur && cur.index === index) {
        current = found[cur.nth] ?? null;
      }
      ranges.push(...found);
    }
    highlights.set(this.ownedRanges, ranges, current, this.ownedCurrent);
  }

  private clearFind(): void {
    this.matches = [];
    this.modelCounts.clear();
    this.current = -1;
    this.currentEl?.classList.remove('jp-mod-findCurrent');
    this.currentEl = null;
    if (this.findTimer) {
      clearTimeout(this.findTimer);
      this.findTimer = null;
    }
    highlights.set(this.ownedRanges, [], null, this.ownedCurrent);
  }
}
