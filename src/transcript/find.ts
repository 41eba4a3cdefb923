/**
 * Find in a transcript (Ctrl+F inside a session view): a find bar, the matches over the whole
 * transcript (also the parts not in the DOM), and their highlights in what is shown — with the
 * CSS Custom Highlight API, so the rendered items themselves are never rewritten.
 */
import { Emitter } from '../model';
import { h, iconButton } from './dom';

export interface IFindMatch {
  /** The item's index in the transcript. */
  index: number;
  /** Which occurrence in that item (0-based). */
  nth: number;
}

/** Every occurrence of `query` (case-insensitive) in `texts`, item by item. */
export function findMatches(texts: (index: number) => string, count: number, query: string): IFindMatch[] {
  const q = query.toLowerCase();
  const out: IFindMatch[] = [];
  if (!q) {
    return out;
  }
  for (let index = 0; index < count; index++) {
    const text = texts(index).toLowerCase();
    let nth = 0;
    for (let at = text.indexOf(q); at !== -1; at = text.indexOf(q, at + q.length)) {
      out.push({ index, nth: nth++ });
    }
  }
  return out;
}

/** DOM ranges of every occurrence of `query` in the visible text of `root`. */
export function rangesIn(root: HTMLElement, query: string): Range[] {
  const q = query.toLowerCase();
  if (!q) {
    return [];
  }
  const nodes: Text[] = [];
  const starts: number[] = [];
  let text = '';
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: node =>
      node.parentElement?.closest('button, .jp-GlueItem-tools, .jp-GlueCode-bar')
        ? NodeFilter.FILTER_REJECT
        : NodeFilter.FILTER_ACCEPT
  });
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    nodes.push(n as Text);
    starts.push(text.length);
    text += (n as Text).data;
  }
  const lower = text.toLowerCase();
  const at = (offset: number): [Text, number] => {
    let lo = 0;
    let hi = nodes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return [nodes[lo], offset - starts[lo]];
  };
  const ranges: Range[] = [];
  for (let i = lower.indexOf(q); i !== -1; i = lower.indexOf(q, i + q.length)) {
    const range = document.createRange();
    range.setStart(...at(i));
    const [endNode, endOffset] = at(i + q.length - 1);
    range.setEnd(endNode, endOffset + 1);
    ranges.push(range);
  }
  return ranges;
}

/**
 * The page-wide highlights ("glue-find", "glue-find-current"). Several transcripts may be on a
 * page: each adds and removes its own ranges from the same two Highlight objects.
 */
class Highlights {
  private all: any = null;
  private current: any = null;

  get supported(): boolean {
    return typeof CSS !== 'undefined' && 'highlights' in CSS && typeof (window as any).Highlight === 'function';
  }

  private ensure(): void {
    if (!this.all && this.supported) {
      const H = (window as any).Highlight;
      this.all = new H();
      this.current = new H();
      (CSS as any).highlights.set('glue-find', this.all);
      (CSS as any).highlights.set('glue-find-current', this.current);
    }
  }

  set(owned: Set<Range>, ranges: Range[], current: Range | null, ownedCurrent: { range: Range | null }): void {
    this.ensure();
    if (!this.all) {
      return;
    }
    owned.forEach(r => this.all.delete(r));
    owned.clear();
    if (ownedCurrent.range) {
      this.current.delete(ownedCurrent.range);
    }
    ranges.forEach(r => {
      if (r !== current) {
        this.all.add(r);
        owned.add(r);
      }
    });
    ownedCurrent.range = current;
    if (current) {
      this.current.add(current);
    }
  }
}

export const highlights = new Highlights();

/** The find bar: query, "3 of 12", previous, next, close. Enter / Shift+Enter step, Esc closes. */
export class FindBar {
  readonly node: HTMLElement;
  readonly queryChanged = new Emitter<string>();
  readonly step = new Emitter<1 | -1>();
  readonly closed = new Emitter<void>();
  private readonly input: HTMLInputElement;
  private readonly count: HTMLElement;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    this.input = h('input', {
      type: 'search',
      class: 'jp-GlueFind-input',
      placeholder: 'Find in transcript',
      'aria-label': 'Find in transcript',
      spellcheck: 'false'
    });
    this.count = h('span', { class: 'jp-GlueFind-count', 'aria-live': 'polite' });
    const prev = iconButton('up', 'Previous match (Shift+Enter)', 'jp-GlueFind-prev');
    const next = iconButton('down', 'Next match (Enter)', 'jp-GlueFind-next');
    const close = iconButton('close', 'Close (Escape)', 'jp-GlueFind-close');
    prev.addEventListener('click', () => this.step.emit(-1));
    next.addEventListener('click', () => this.step.emit(1));
    close.addEventListener('click', () => this.close());
    this.input.addEventListener('input', () => {
      if (this.timer) {
        clearTimeout(this.timer);
      }
      this.timer = setTimeout(() => this.queryChanged.emit(this.input.value), 80);
    });
    this.input.addEventListener('keydown', ev => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        if (this.timer) {
          clearTimeout(this.timer);
          this.timer = null;
          this.queryChanged.emit(this.input.value);
        }
        this.step.emit(ev.shiftKey ? -1 : 1);
      } else if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        this.close();
      }
    });
    this.node = h('div', { class: 'jp-GlueFind', role: 'search' }, this.input, this.count, prev, next, close);
    this.node.style.display = 'none';
  }

  get isOpen(): boolean {
    return this.node.style.display !== 'none';
  }

  get query(): string {
    return this.isOpen ? this.input.value : '';
  }

  /** Show the bar (with `query`, when given) and focus it. */
  open(query?: string): void {
    const wasOpen = this.isOpen;
    this.node.style.display = '';
    if (query !== undefined && query !== this.input.value) {
      this.input.value = query;
      this.queryChanged.emit(query);
    } else if (!wasOpen && this.input.value) {
      this.queryChanged.emit(this.input.value);
    }
    this.input.focus();
    this.input.select();
  }

  close(): void {
    if (!this.isOpen) {
      return;
    }
    this.node.style.display = 'none';
    this.closed.emit();
  }

  /** "3 of 12", "No matches" or nothing. */
  setCount(current: number, total: number): void {
    this.count.textContent = !this.input.value ? '' : total ? `${current + 1} of ${total}` : 'No matches';
    this.node.classList.toggle('jp-mod-noMatch', !!this.input.value && !total);
  }
}
