/**
 * The "Agent sessions" side panel: every session at a glance, live, searchable.
 */
import { CommandToolbarButton, Toolbar } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { GlueAPI } from '../client';
import { ATTENTION_GROUPS, Emitter, GroupKey, SessionsModel, SortKey, attentionGroup, sortSessions } from '../model';
import { formatTime, h, icon, timeAgo } from '../transcript/dom';
import { displayFolder } from '../transcript/paths';
import { ISession, ISessionMatch, SESSION_STATES, SessionState, needsYouText, needsYouWord, stateLabel } from '../types';
import { NewSessionForm } from './composer';
import { styledSelect } from './widgets';

/** Where a search result matched (the server's `match`), to jump to it when opened. */
export interface ISearchHit {
  query: string;
  seq?: number | null;
  turn?: number | null;
}

export interface ISessionsPanelOptions {
  api: GlueAPI;
  model: SessionsModel;
  /** The folder the file browser shows (relative to the server root). */
  currentFolder: () => string;
  /** The server's root directory, to show folders relative to it. */
  serverRoot?: string;
  /** Open a session (at a search hit). */
  open: (id: string, hit?: ISearchHit) => void;
  /** The commands behind the panel's toolbar (new, pause all, stop all). */
  commands: CommandRegistry;
}

/** How the list is ordered and grouped (kept in the user's settings). */
export interface IPanelView {
  sort: SortKey;
  group: GroupKey;
}

const ACTIVE: SessionState[] = ['starting', 'idle', 'running', 'interrupting'];

export { displayFolder };

/** The group a session is listed under. */
export function groupOf(s: ISession, group: GroupKey, root?: string): string {
  if (group === 'agent') {
    return s.agent;
  }
  if (group === 'notebook') {
    return s.notebook ? displayFolder(s.notebook, root) : 'Not started from a notebook';
  }
  return displayFolder(s.cwd, root);
}

export class SessionsPanel extends Widget {
  readonly form: NewSessionForm;
  readonly toolbar: Toolbar;
  private readonly headerEl: HTMLElement;
  /** Emitted when the user picks another sort or grouping. */
  readonly viewChanged = new Emitter<IPanelView>();
  private readonly opts: ISessionsPanelOptions;
  private readonly banner: HTMLElement;
  private readonly connEl: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly stateFilter: HTMLSelectElement;
  private readonly agentFilter: HTMLSelectElement;
  private readonly sortSelect: HTMLSelectElement;
  private readonly groupSelect: HTMLSelectElement;
  private readonly list: HTMLElement;
  private readonly emptyEl: HTMLElement;
  private readonly countEl: HTMLElement;
  private readonly formHost: HTMLElement;
  private readonly rows = new Map<string, HTMLElement>();
  private readonly rowSession = new WeakMap<HTMLElement, ISession>();
  private readonly rowHit = new WeakMap<HTMLElement, ISessionMatch | undefined>();
  /** The search's results: session id → where it matched. */
  private matches: Map<string, ISessionMatch> | null = null;
  private searching = false;
  private searchSeq = 0;
  private searchTimer: ReturnType<typeof setTimeout> | null = null;
  private researchTimer: ReturnType<typeof setTimeout> | null = null;
  private frame = 0;
  private clock: ReturnType<typeof setInterval> | null = null;
  private _selected: string | null = null;
  private lastOrder = '';
  private disconnects: (() => void)[] = [];

  constructor(opts: ISessionsPanelOptions) {
    super();
    this.opts = opts;
    this.addClass('jp-GlueSessionsPanel');
    this.id = 'glue-sessions-panel';
    this.title.caption = 'Agent sessions';

    this.banner = h('div', { class: 'jp-GlueBanner', role: 'alert' });
    this.banner.style.display = 'none';

    // JupyterLab's own toolbar: New, Pause all, Stop all (each a command, with its shortcut).
    this.toolbar = new Toolbar();
    this.toolbar.addClass('jp-GlueSessionsPanel-toolbar');
    for (const [name, id] of [
      ['new', 'glue:new-session'],
      ['pause-all', 'glue:pause-all'],
      ['stop-all', 'glue:stop-all']
    ]) {
      this.toolbar.addItem(name, new CommandToolbarButton({ commands: opts.commands, id, args: { toolbar: true } }));
    }
    this.connEl = h('span', { class: 'jp-GlueSessionsPanel-conn' });
    const header = h(
      'div',
      { class: 'jp-GlueSessionsPanel-header' },
      h('h2', { class: 'jp-GlueSessionsPanel-heading', text: 'Agent sessions' }),
      this.connEl
    );
    this.headerEl = header;

    this.formHost = h('div', { class: 'jp-GlueSessionsPanel-form' });
    this.formHost.style.display = 'none';
    this.form = new NewSessionForm({
      api: opts.api,
      defaultFolder: opts.currentFolder,
      onCreated: s => {
        this.hideForm();
        this.opts.model.set(s);
        this.opts.open(s.id);
      },
      onCancel: () => this.hideForm()
    });
    this.formHost.appendChild(this.form.node);

    this.search = h('input', {
      type: 'search',
      class: 'jp-GlueSessionsPanel-search',
      placeholder: 'Search titles and transcripts',
      'aria-label': 'Search sessions',
      spellcheck: 'false'
    });
    this.search.addEventListener('input', () => this.onSearchInput());
    this.search.addEventListener('keydown', ev => {
      if (ev.key === 'Escape' && this.search.value) {
        this.search.value = '';
        this.onSearchInput();
      }
    });

    this.stateFilter = h('select', { class: 'jp-GlueSessionsPanel-stateFilter', 'aria-label': 'Filter by state' });
    this.stateFilter.appendChild(h('option', { value: '', text: 'All states' }));
    this.stateFilter.appendChild(h('option', { value: 'needs-you', text: 'Needs you' }));
    this.stateFilter.appendChild(h('option', { value: 'active', text: 'Active' }));
    this.stateFilter.appendChild(h('option', { value: 'waiting', text: 'Waiting for permission' }));
    for (const s of SESSION_STATES) {
      this.stateFilter.appendChild(h('option', { value: s, text: stateLabel(s) }));
    }
    this.agentFilter = h('select', { class: 'jp-GlueSessionsPanel-agentFilter', 'aria-label': 'Filter by agent' });
    this.sortSelect = h('select', { class: 'jp-GlueSessionsPanel-sort', 'aria-label': 'Sort by' });
    for (const [v, t] of [
      ['activity', 'activity'],
      ['status', 'status'],
      ['agent', 'agent'],
      ['folder', 'folder']
    ]) {
      this.sortSelect.appendChild(h('option', { value: v, text: `Sort: ${t}` }));
      this.sortSelect.title = 'Sort by';
    }
    this.groupSelect = h('select', { class: 'jp-GlueSessionsPanel-group', 'aria-label': 'Group by' });
    for (const [v, t] of [
      ['attention', 'Group: triage'],
      ['none', 'Group: none'],
      ['folder', 'Group: folder'],
      ['agent', 'Group: agent'],
      ['notebook', 'Group: notebook']
    ]) {
      this.groupSelect.appendChild(h('option', { value: v, text: t }));
    }
    for (const sel of [this.stateFilter, this.agentFilter, this.sortSelect, this.groupSelect]) {
      sel.addEventListener('change', () => this.scheduleRender());
    }
    for (const sel of [this.sortSelect, this.groupSelect]) {
      sel.addEventListener('change', () => this.viewChanged.emit(this.view));
    }
    const filters = h(
      'div',
      { class: 'jp-GlueSessionsPanel-filters' },
      this.search,
      h(
        'div',
        { class: 'jp-GlueSessionsPanel-selects' },
        ...[this.stateFilter, this.agentFilter, this.sortSelect, this.groupSelect].map(sel => styledSelect(sel))
      )
    );

    this.countEl = h('div', { class: 'jp-GlueSessionsPanel-count' });
    this.list = h('div', { class: 'jp-GlueSessionList', role: 'list' });
    this.list.addEventListener('click', ev => {
      const row = (ev.target as HTMLElement).closest<HTMLElement>('.jp-GlueSessionList-item');
      if (row?.dataset.sessionId) {
        this.openRow(row.dataset.sessionId);
      }
    });
    this.list.addEventListener('keydown', ev => this.onListKey(ev));
    this.emptyEl = h('div', { class: 'jp-GlueSessionsPanel-empty' });

    this.node.appendChild(this.banner);
    this.node.appendChild(header);
    this.node.appendChild(this.formHost);
    this.node.appendChild(filters);
    this.node.appendChild(this.countEl);
    this.node.appendChild(this.emptyEl);
    this.node.appendChild(this.list);

    this.disconnects.push(
      opts.model.changed.connect(change => {
        if (change.type === 'forgotten') {
          this.matches?.delete(change.id);
        } else if (change.type === 'session' && this.matches && this.search.value.trim()) {
          // A session that changed may now match (or not): search again, gently.
          this.scheduleResearch();
        }
        this.scheduleRender();
      }),
      opts.model.statusChanged.connect(() => this.renderConn())
    );
    this.clock = setInterval(() => this.refreshTimes(), 30000);
    this.scheduleRender();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.disconnects.forEach(d => d());
    this.viewChanged.clear();
    this.toolbar.dispose();
    if (this.clock) {
      clearInterval(this.clock);
    }
    if (this.frame) {
      cancelAnimationFrame(this.frame);
    }
    super.dispose();
  }

  /** The session shown as selected (the one open in the main area). */
  set selected(id: string | null) {
    this._selected = id;
    for (const [rid, row] of this.rows) {
      row.classList.toggle('jp-mod-selected', rid === id);
    }
  }

  /** The sort and grouping shown in the selects. */
  get view(): IPanelView {
    return { sort: this.sortSelect.value as SortKey, group: this.groupSelect.value as GroupKey };
  }

  /** Show a sort and grouping (from the settings); unknown values are ignored. */
  set view(view: Partial<IPanelView>) {
    for (const [sel, value] of [
      [this.sortSelect, view.sort],
      [this.groupSelect, view.group]
    ] as const) {
      if (value && Array.from(sel.options).some(o => o.value === value)) {
        sel.value = value;
      }
    }
    this.scheduleRender();
  }

  get searchText(): string {
    return this.search.value;
  }

  /** Show a plain-words problem (server extension missing, version mismatch). */
  showBanner(message: string | null): void {
    this.banner.textContent = message ?? '';
    this.banner.style.display = message ? '' : 'none';
  }

  /** Show the new-session form (in `folder`, root-relative, when given). */
  showForm(folder?: string): void {
    this.formHost.style.display = '';
    void this.form.open(folder);
  }

  hideForm(): void {
    this.formHost.style.display = 'none';
  }

  toggleForm(): void {
    if (this.formHost.style.display === 'none') {
      this.showForm();
    } else {
      this.hideForm();
    }
  }

  focusSearch(): void {
    this.search.focus();
    this.search.select();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (!this.toolbar.isAttached) {
      Widget.attach(this.toolbar, this.headerEl); // a Lumino widget: attached to render its buttons
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.refreshTimes();
  }

  private onSearchInput(): void {
    if (this.searchTimer) {
      clearTimeout(this.searchTimer);
    }
    const q = this.search.value.trim();
    if (!q) {
      this.searchSeq++;
      this.matches = null;
      this.searching = false;
      this.scheduleRender();
      return;
    }
    this.searching = true;
    this.renderCount();
    this.searchTimer = setTimeout(() => void this.runSearch(q), 120);
  }

  private scheduleResearch(): void {
    if (this.researchTimer) {
      return;
    }
    this.researchTimer = setTimeout(() => {
      this.researchTimer = null;
      const q = this.search.value.trim();
      if (q) {
        void this.runSearch(q);
      }
    }, 1000);
  }

  private async runSearch(q: string): Promise<void> {
    const seq = ++this.searchSeq;
    try {
      const found = await this.opts.api.listSessions({ q });
      if (seq !== this.searchSeq) {
        return;
      }
      this.matches = new Map(found.map(s => [s.id, s.match ?? { source: 'title', seq: null, turn: null, text: '', highlights: [] }]));
      for (const s of found) {
        if (!this.opts.model.get(s.id)) {
          this.opts.model.set(s);
        }
      }
    } catch (err) {
      if (seq !== this.searchSeq) {
        return;
      }
      this.showBanner(`Search failed: ${(err as Error).message}`);
    }
    this.searching = false;
    this.scheduleRender();
  }

  private scheduleRender(): void {
    if (this.frame) {
      return;
    }
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Render now (benchmarks). */
  renderNow(): void {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    this.render();
  }

  private visible(): ISession[] {
    const stateF = this.stateFilter.value;
    const agentF = this.agentFilter.value;
    let sessions = this.opts.model.sessions;
    if (stateF === 'active') {
      sessions = sessions.filter(s => ACTIVE.includes(s.state));
    } else if (stateF === 'needs-you') {
      sessions = sessions.filter(s => !!s.needs_you);
    } else if (stateF === 'waiting') {
      sessions = sessions.filter(s => s.pending_permissions > 0);
    } else if (stateF) {
      sessions = sessions.filter(s => s.state === stateF);
    }
    if (agentF) {
      sessions = sessions.filter(s => s.agent === agentF);
    }
    if (this.matches && this.search.value.trim()) {
      const m = this.matches;
      sessions = sessions.filter(s => m.has(s.id));
    }
    return sortSessions(sessions, this.sortSelect.value as SortKey);
  }

  private updateAgentFilter(): void {
    const agents = Array.from(new Set(this.opts.model.sessions.map(s => s.agent))).sort();
    const current = this.agentFilter.value;
    const existing = Array.from(this.agentFilter.options).map(o => o.value);
    const wanted = ['', ...agents];
    if (current && !wanted.includes(current)) {
      wanted.push(current);
    }
    if (existing.length === wanted.length && existing.every((v, i) => v === wanted[i])) {
      return;
    }
    this.agentFilter.textContent = '';
    for (const a of wanted) {
      this.agentFilter.appendChild(h('option', { value: a, text: a || 'All agents' }));
    }
    this.agentFilter.value = current;
  }

  private render(): void {
    const t0 = performance.now();
    this.updateAgentFilter();
    const sessions = this.visible();
    const group = this.groupSelect.value as GroupKey;
    const frag = document.createDocumentFragment();
    let lastGroup: string | null = null;
    const groups = new Map<string, ISession[]>();
    if (group === 'attention') {
      ATTENTION_GROUPS.forEach(g => groups.set(g, [])); // in this order, whatever comes first
    }
    if (group !== 'none') {
      for (const s of sessions) {
        const key = group === 'attention' ? attentionGroup(s) : groupOf(s, group, this.opts.serverRoot);
        let arr = groups.get(key);
        if (!arr) {
          arr = [];
          groups.set(key, arr);
        }
        arr.push(s);
      }
    }
    const ordered =
      group === 'none'
        ? sessions.map(s => ({ s, g: null as string | null }))
        : Array.from(groups.entries()).flatMap(([g, arr]) => arr.map(s => ({ s, g })));
    // The match snippets shown follow the search: a new search re-draws the rows.
    const searchKey = this.matches && this.search.value.trim() ? `\u0001${this.search.value.trim()}` : '';
    // Re-insert only when the order or grouping changed; otherwise rows update in place.
    const order = ordered.map(o => `${o.g ?? ''}\u0000${o.s.id}`).join('\n') + searchKey;
    const reorder = order !== this.lastOrder;
    const seen = new Set<string>();
    for (const { s, g } of ordered) {
      if (reorder && g !== null && g !== lastGroup) {
        lastGroup = g;
        const n = groups.get(g)!.length;
        frag.appendChild(
          h(
            'div',
            {
              class: 'jp-GlueSessionList-group',
              role: 'presentation',
              title: g,
              'data-group': group === 'attention' ? g : null
            },
            g === 'Needs you' ? icon('needsYou', 'jp-GlueIcon jp-GlueSessionList-groupIcon') : null,
            h('span', { class: `jp-GlueSessionList-groupName${group === 'attention' ? ' jp-mod-plain' : ''}`, text: g }),
            h('span', { class: 'jp-GlueSessionList-groupCount', text: String(n) })
          )
        );
      }
      seen.add(s.id);
      const row = this.row(s);
      if (reorder) {
        frag.appendChild(row);
      }
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        this.rows.delete(id);
        row.remove();
      }
    }
    if (reorder) {
      this.list.textContent = '';
      this.list.appendChild(frag);
      this.lastOrder = order;
    }
    this.renderEmpty(sessions.length);
    this.renderCount(sessions.length);
    this.renderConn();
    // Visible in the browser's performance tools (and read by benchmarks/panel.py).
    performance.measure?.('glue-panel-render', { start: t0, detail: sessions.length });
  }

  /** The search hit of a session while a search is shown. */
  private hitOf(id: string): ISessionMatch | undefined {
    return this.matches && this.search.value.trim() ? this.matches.get(id) : undefined;
  }

  private row(s: ISession): HTMLElement {
    let row = this.rows.get(s.id);
    const hit = this.hitOf(s.id);
    if (row && this.rowSession.get(row) === s && this.rowHit.get(row) === hit) {
      return row;
    }
    if (!row) {
      row = h('div', {
        class: 'jp-GlueSessionList-item',
        role: 'listitem',
        tabindex: 0,
        'data-session-id': s.id
      });
      this.rows.set(s.id, row);
    }
    this.rowSession.set(row, s);
    this.rowHit.set(row, hit);
    row.dataset.state = s.state;
    row.dataset.needsYou = s.needs_you ?? '';
    row.classList.toggle('jp-mod-selected', s.id === this._selected);
    row.classList.toggle('jp-mod-waiting', s.pending_permissions > 0);
    const folder = displayFolder(s.cwd, this.opts.serverRoot);
    row.title = `${s.title || 'Untitled session'}\n${stateLabel(s.state)} · ${s.agent} · ${s.cwd}\nLast activity ${formatTime(
      s.updated_at
    )}${s.error ? `\n${s.error}` : ''}`;
    row.textContent = '';
    row.appendChild(h('span', { class: 'jp-GlueDot', 'data-state': s.state, 'aria-label': stateLabel(s.state) }));
    const main = h(
      'div',
      { class: 'jp-GlueSessionList-main' },
      h(
        'div',
        { class: 'jp-GlueSessionList-line1' },
        h('span', { class: 'jp-GlueSessionList-title', text: s.title || 'Untitled session' }),
        h('span', { class: 'jp-GlueSessionList-time', 'data-ts': s.updated_at, text: timeAgo(s.updated_at) })
      ),
      h(
        'div',
        { class: 'jp-GlueSessionList-line2' },
        h('span', { class: 'jp-GlueSessionList-state', text: stateLabel(s.state) }),
        h('span', { class: 'jp-GlueSessionList-agent', text: s.agent }),
        h('span', { class: 'jp-GlueSessionList-folder', title: s.cwd }, icon('folder', 'jp-GlueIcon jp-GlueFolderIcon'), folder),
        s.needs_you
          ? h('span', {
              class: 'jp-GlueSessionList-needsYou',
              'data-reason': s.needs_you,
              title: needsYouText(s),
              text: needsYouWord(s)
            })
          : null
      ),
      hit && hit.text ? snippet(hit) : null
    );
    row.appendChild(main);
    return row;
  }

  /** Open a row's session; from a search, at the match. */
  private openRow(id: string): void {
    const hit = this.hitOf(id);
    const query = this.search.value.trim();
    this.opts.open(id, hit && hit.source !== 'title' ? { query, seq: hit.seq, turn: hit.turn } : undefined);
  }

  private refreshTimes(): void {
    const now = Date.now() / 1000;
    this.list.querySelectorAll<HTMLElement>('.jp-GlueSessionList-time').forEach(el => {
      el.textContent = timeAgo(Number(el.dataset.ts), now);
    });
  }

  private renderEmpty(shown: number): void {
    this.emptyEl.textContent = '';
    const model = this.opts.model;
    if (shown > 0) {
      this.emptyEl.style.display = 'none';
      return;
    }
    this.emptyEl.style.display = '';
    if (!model.loaded) {
      this.emptyEl.appendChild(
        h('p', { text: model.status === 'reconnecting' ? 'Cannot reach the server; retrying…' : 'Loading sessions…' })
      );
      return;
    }
    if (model.size === 0) {
      const start = h('button', { type: 'button', class: 'jp-GlueButton jp-mod-accept' });
      start.textContent = 'Start a session';
      start.addEventListener('click', () => this.showForm());
      this.emptyEl.appendChild(h('p', { class: 'jp-GlueSessionsPanel-emptyTitle', text: 'No sessions yet — start one.' }));
      this.emptyEl.appendChild(
        h('p', { text: 'A session runs a coding agent in a folder; you watch it and steer it from here.' })
      );
      this.emptyEl.appendChild(start);
      return;
    }
    if (this.searching) {
      this.emptyEl.appendChild(h('p', { text: 'Searching…' }));
      return;
    }
    const q = this.search.value.trim();
    this.emptyEl.appendChild(
      h('p', { class: 'jp-GlueSessionsPanel-emptyTitle', text: q ? `No sessions match “${q}”.` : 'No sessions match these filters.' })
    );
    const clear = h('button', { type: 'button', class: 'jp-GlueButton' });
    clear.textContent = 'Clear search and filters';
    clear.addEventListener('click', () => {
      this.search.value = '';
      this.stateFilter.value = '';
      this.agentFilter.value = '';
      this.onSearchInput();
    });
    this.emptyEl.appendChild(clear);
  }

  private renderCount(shown?: number): void {
    const total = this.opts.model.size;
    const n = shown ?? this.list.querySelectorAll('.jp-GlueSessionList-item').length;
    const parts: string[] = [];
    if (total) {
      parts.push(n === total ? `${total} session${total === 1 ? '' : 's'}` : `${n} of ${total} sessions`);
    }
    if (this.searching) {
      parts.push('searching…');
    }
    this.countEl.textContent = parts.join(' · ');
  }

  private renderConn(): void {
    const st = this.opts.model.status;
    const text = st === 'reconnecting' ? 'offline — reconnecting…' : '';
    this.connEl.textContent = text;
    this.connEl.style.display = text ? '' : 'none';
  }

  private onListKey(ev: KeyboardEvent): void {
    const row = (ev.target as HTMLElement).closest<HTMLElement>('.jp-GlueSessionList-item');
    if (!row) {
      return;
    }
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      if (row.dataset.sessionId) {
        this.openRow(row.dataset.sessionId);
      }
    } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const rows = Array.from(this.list.querySelectorAll<HTMLElement>('.jp-GlueSessionList-item'));
      const i = rows.indexOf(row) + (ev.key === 'ArrowDown' ? 1 : -1);
      rows[Math.max(0, Math.min(rows.length - 1, i))]?.focus();
    }
  }
}

/** A search hit's excerpt, the matched words marked. */
function snippet(hit: ISessionMatch): HTMLElement {
  const el = h('div', { class: 'jp-GlueSessionList-snippet', 'data-source': hit.source });
  const where = hit.source === 'user' ? 'You: ' : hit.source === 'agent' ? 'Agent: ' : '';
  if (where) {
    el.appendChild(h('span', { class: 'jp-GlueSessionList-snippetWho', text: where }));
  }
  let at = 0;
  for (const [start, end] of hit.highlights) {
    el.appendChild(document.createTextNode(hit.text.slice(at, start)));
    el.appendChild(h('mark', { text: hit.text.slice(start, end) }));
    at = end;
  }
  el.appendChild(document.createTextNode(hit.text.slice(at)));
  return el;
}
