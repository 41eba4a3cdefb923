/**
 * Typed models, framework-free (shared with the notebook widget bundle).
 *
 * TranscriptModel folds a session's append-only event log (docs/contract.md) into
 * display items, updating items in place (tool_call_update, permission_answer, plan)
 * and reporting exactly which items were added or changed so renderers can work
 * incrementally.
 */
import type { GlueAPI, ReconnectingStream, StreamStatus } from './client';
import { changeText } from './agent-options';
import { isWorking } from './types';
import type { IContextBlock, IEvent, IPermissionOption, IPlanEntry, ISession, ToolContent } from './types';
import { WORKSPACE_KINDS } from './workspace/types';

export * from './types';

/** A minimal typed event emitter (no framework). */
export class Emitter<T> {
  private listeners = new Set<(value: T) => void>();

  connect(fn: (value: T) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(value: T): void {
    for (const fn of Array.from(this.listeners)) {
      try {
        fn(value);
      } catch (err) {
        console.error('glue_jupyter: listener failed', err);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}

interface IItemBase {
  /** Position in the transcript; stable for the item's life. */
  index: number;
  /** Bumped on every in-place change. */
  version: number;
  turn: number | null;
  /** Timestamp of the first event folded into this item. */
  ts: number;
  /** Sequence number of the first event folded into this item. */
  seq: number;
}

export interface IUserItem extends IItemBase {
  type: 'user';
  text: string;
  /** Context sent with the prompt, as it was sent. */
  context: IContextBlock[];
  /** It waited in the queue while a turn ran; `steered`: it joined the running turn. */
  queued?: boolean;
  steered?: boolean;
}

/** What happened to the session's files or conversation: a turn's changes, a rewind, a merge,
 * a fork… (event kinds of WORKSPACE_KINDS; drawn by src/workspace/transcript-items.ts). */
export interface IWorkspaceItem extends IItemBase {
  type: 'workspace';
  kind: string;
  data: any;
}

export interface IMessageItem extends IItemBase {
  type: 'message';
  /** Chunks as they arrived; joined lazily (cheap appends for long streams). */
  chunks: string[];
  length: number;
}

export interface IThoughtItem extends IItemBase {
  type: 'thought';
  chunks: string[];
  length: number;
}

export interface IToolItem extends IItemBase {
  type: 'tool';
  toolCallId: string;
  title: string;
  kind: string;
  status: string;
  content: ToolContent[];
  locations: { path: string; line?: number | null }[];
  rawInput: unknown;
  rawOutput: unknown;
}

export interface IPlanItem extends IItemBase {
  type: 'plan';
  entries: IPlanEntry[];
  /** Set when the turn ended without finishing (cancelled, stopped, failed): its stop reason. */
  cutShort: string | null;
}

/** What a permission request is about: the tool call as the agent described it. */
export interface IToolCallInfo {
  toolCallId: string;
  title: string;
  kind: string;
  content: ToolContent[];
  locations: { path: string; line?: number | null }[];
  rawInput: unknown;
}

export interface IPermissionItem extends IItemBase {
  type: 'permission';
  requestId: string;
  toolTitle: string;
  toolKind: string;
  /** The tool call asked about (merged with what the transcript already knows of it). */
  tool: IToolCallInfo;
  options: IPermissionOption[];
  /** null while waiting; then the answer. */
  answer: { outcome: 'selected' | 'cancelled' | string; optionId?: string; optionName?: string } | null;
}

export interface ITurnEndItem extends IItemBase {
  type: 'turn_end';
  stopReason: string;
  files: string[];
  /** Command lines of the execute tool calls that completed. */
  commands: string[];
  /** Seconds from turn_start to turn_end, when both are known. */
  duration: number | null;
}

export interface ILineItem extends IItemBase {
  type: 'line';
  /** notice | resume | exit | start | info */
  variant: string;
  level: 'info' | 'warning' | 'error';
  text: string;
  /** Extra lines shown in a preformatted block (stderr tails). */
  detail?: string[];
  /** The technical detail, shown on hover. */
  hover?: string;
}

export type TranscriptItem =
  | IUserItem
  | IMessageItem
  | IThoughtItem
  | IToolItem
  | IPlanItem
  | IPermissionItem
  | ITurnEndItem
  | ILineItem
  | IWorkspaceItem;

export interface ITranscriptChange {
  added: TranscriptItem[];
  updated: TranscriptItem[];
  /** True when the model was reset (all items replaced). */
  reset: boolean;
}

/** Joined text of a message or thought item (memoised per version). */
const textCache = new WeakMap<IMessageItem | IThoughtItem, { version: number; text: string }>();
export function itemText(item: IMessageItem | IThoughtItem): string {
  const cached = textCache.get(item);
  if (cached && cached.version === item.version) {
    return cached.text;
  }
  const text = item.chunks.join('');
  // Collapse the chunk list so later joins stay cheap.
  item.chunks = [text];
  textCache.set(item, { version: item.version, text });
  return text;
}

export class TranscriptModel {
  readonly changed = new Emitter<ITranscriptChange>();
  /** Title changes announced by session_info events. */
  readonly titleChanged = new Emitter<string>();

  private _items: TranscriptItem[] = [];
  private _lastSeq = 0;
  /** Tool calls by turn and id: agents may reuse ids across turns. */
  private tools = new Map<string, IToolItem>();
  private plans = new Map<number | null, IPlanItem>();
  private permissions = new Map<string, IPermissionItem>();
  private turnStarts = new Map<number, number>();
  private filesByTurn = new Map<number, Set<string>>();
  private pending: ITranscriptChange | null = null;

  get items(): readonly TranscriptItem[] {
    return this._items;
  }

  get lastSeq(): number {
    return this._lastSeq;
  }

  /** Permission requests still waiting for an answer. */
  get openPermissions(): IPermissionItem[] {
    return Array.from(this.permissions.values()).filter(p => !p.answer);
  }

  /** When the turn in progress started (epoch seconds), or null when none is. */
  currentTurnStart(): number | null {
    const last = this.lastTurnNumber();
    if (last === null) {
      return null;
    }
    return this.turnStarts.get(last) ?? null;
  }

  private openTurn: number | null = null;
  /** The seq of the event being folded. */
  private folding = 0;
  private _lastResumeVia: string | null = null;

  /** How the session last resumed, per its own log (null if it never did). */
  get lastResumeVia(): string | null {
    return this._lastResumeVia;
  }

  private lastTurnNumber(): number | null {
    return this.openTurn;
  }

  reset(): void {
    this._items = [];
    this._lastSeq = 0;
    this.tools.clear();
    this.plans.clear();
    this.permissions.clear();
    this.turnStarts.clear();
    this.filesByTurn.clear();
    this.openTurn = null;
    this._lastResumeVia = null;
    this.changed.emit({ added: [], updated: [], reset: true });
  }

  /** Fold a batch of events (in seq order); duplicates and old events are ignored. */
  apply(events: IEvent[]): void {
    const change: ITranscriptChange = { added: [], updated: [], reset: false };
    this.pending = change;
    try {
      for (const ev of events) {
        if (ev.seq <= this._lastSeq) {
          continue;
        }
        this._lastSeq = ev.seq;
        this.folding = ev.seq;
        this.fold(ev);
      }
    } finally {
      this.pending = null;
    }
    // An item both added and updated in one batch is reported once, as added.
    const added = new Set(change.added);
    const updated = Array.from(new Set(change.updated)).filter(i => !added.has(i));
    if (change.added.length || updated.length) {
      this.changed.emit({ added: change.added, updated, reset: false });
    }
  }

  private add<T extends TranscriptItem>(item: Omit<T, 'index' | 'version' | 'seq'>): T {
    const full = { ...item, seq: this.folding, index: this._items.length, version: 0 } as T;
    this._items.push(full);
    this.pending?.added.push(full);
    return full;
  }

  private touch(item: TranscriptItem): void {
    item.version += 1;
    this.pending?.updated.push(item);
  }

  private last(): TranscriptItem | undefined {
    return this._items[this._items.length - 1];
  }

  private fold(ev: IEvent): void {
    const d = ev.data ?? {};
    const turn = ev.turn ?? null;
    switch (ev.kind) {
      case 'user_message':
        this.add<IUserItem>({
          type: 'user',
          turn,
          ts: ev.ts,
          text: String(d.text ?? ''),
          context: Array.isArray(d.context) ? d.context : [],
          queued: !!d.queued_id,
          steered: !!d.steered
        });
        break;
      case 'agent_message_chunk':
      case 'agent_thought_chunk': {
        const type = ev.kind === 'agent_message_chunk' ? 'message' : 'thought';
        const text = String(d.text ?? '');
        const last = this.last();
        if (last && last.type === type && last.turn === turn) {
          last.chunks.push(text);
          last.length += text.length;
          this.touch(last);
        } else {
          this.add<IMessageItem | IThoughtItem>({
            type,
            turn,
            ts: ev.ts,
            chunks: [text],
            length: text.length
          } as any);
        }
        break;
      }
      case 'tool_call':
      case 'tool_call_update': {
        // A tool call is created by its first event (an update for a call we never saw is
        // shown anyway) and every later event updates it in place.
        const id = String(d.tool_call_id ?? '');
        const key = toolKey(turn, id);
        let item = this.tools.get(key);
        if (!item) {
          item = this.add<IToolItem>({
            type: 'tool',
            turn,
            ts: ev.ts,
            toolCallId: id,
            title: 'Tool call',
            kind: 'other',
            status: 'pending',
            content: [],
            locations: [],
            rawInput: undefined,
            rawOutput: undefined
          });
          this.tools.set(key, item);
        }
        this.updateTool(item, d);
        this.noteFiles(turn, item);
        this.completePermissions(turn, item);
        break;
      }
      case 'plan': {
        const entries: IPlanEntry[] = Array.isArray(d.entries) ? d.entries : [];
        // The whole plan, replacing the turn's previous one in place (whatever came between:
        // a pause and its resume add lines, not a second plan).
        const plan = this.plans.get(turn);
        if (plan) {
          plan.entries = entries;
          this.touch(plan);
        } else {
          this.plans.set(turn, this.add<IPlanItem>({ type: 'plan', turn, ts: ev.ts, entries, cutShort: null }));
        }
        break;
      }
      case 'permission_request': {
        const tc = d.tool_call ?? {};
        const known = this.tools.get(toolKey(turn, String(tc.tool_call_id ?? '')));
        const tool: IToolCallInfo = {
          toolCallId: String(tc.tool_call_id ?? ''),
          title: String(tc.title || known?.title || 'A tool call'),
          kind: String(tc.kind || known?.kind || ''),
          content: Array.isArray(tc.content) && tc.content.length ? tc.content : known?.content ?? [],
          locations: Array.isArray(tc.locations) && tc.locations.length ? tc.locations : known?.locations ?? [],
          rawInput: tc.raw_input !== undefined ? tc.raw_input : known?.rawInput
        };
        const item = this.add<IPermissionItem>({
          type: 'permission',
          turn,
          ts: ev.ts,
          requestId: String(d.request_id ?? ''),
          toolTitle: tool.title,
          toolKind: tool.kind,
          tool,
          options: Array.isArray(d.options) ? d.options : [],
          answer: null
        });
        this.permissions.set(item.requestId, item);
        break;
      }
      case 'permission_answer': {
        const item = this.permissions.get(String(d.request_id ?? ''));
        if (item) {
          const opt = item.options.find(o => o.option_id === d.option_id);
          item.answer = {
            outcome: String(d.outcome ?? 'selected'),
            optionId: d.option_id,
            optionName: opt?.name
          };
          this.touch(item);
        }
        break;
      }
      case 'turn_start': {
        const t = Number(d.turn ?? turn);
        this.turnStarts.set(t, ev.ts);
        this.openTurn = t;
        break;
      }
      case 'turn_end': {
        const t = Number(d.turn ?? turn);
        const start = this.turnStarts.get(t);
        const files: string[] = Array.isArray(d.files) ? d.files.map(String) : [];
        const commands: string[] = Array.isArray(d.commands) ? d.commands.map(String) : [];
        this.openTurn = null;
        // Tool calls left unfinished by a turn that did not end normally will not finish.
        const reason = String(d.stop_reason ?? 'end_turn');
        if (reason !== 'end_turn') {
          for (const tool of this.tools.values()) {
            if (tool.turn === t && (tool.status === 'pending' || tool.status === 'in_progress')) {
              tool.status = 'cancelled';
              this.touch(tool);
            }
          }
          // A plan left half done will not go on: say so instead of showing a step still running.
          const plan = this.plans.get(t);
          if (plan && plan.entries.some(e => e.status !== 'completed')) {
            plan.cutShort = reason;
            this.touch(plan);
          }
        }
        // Requests still open when a turn ends were withdrawn (e.g. by an interrupt).
        for (const p of this.permissions.values()) {
          if (!p.answer && p.turn === t) {
            p.answer = { outcome: 'cancelled' };
            this.touch(p);
          }
        }
        this.add<ITurnEndItem>({
          type: 'turn_end',
          turn: t,
          ts: ev.ts,
          stopReason: String(d.stop_reason ?? 'end_turn'),
          files,
          commands,
          duration: start !== undefined ? Math.max(0, ev.ts - start) : null
        });
        break;
      }
      case 'resume': {
        const via = String(d.via ?? '');
        this._lastResumeVia = via;
        this.add<ILineItem>({
          type: 'line',
          turn,
          ts: ev.ts,
          variant: 'resume',
          level: 'info',
          text: RESUME_LINES[via] ?? 'Resumed.',
          hover: d.detail ? String(d.detail) : undefined
        });
        break;
      }
      case 'process_exit': {
        const code = d.code;
        const signal = d.signal;
        // An exit we asked for (stop) is routine, whatever signal ended it: no code to decode.
        const abnormal = !d.requested && ((code !== 0 && code !== null && code !== undefined) || !!signal);
        const technical =
          (code !== null && code !== undefined ? `exit code ${code}` : 'no exit code') + (signal ? `, ${signal}` : '');
        this.add<ILineItem>({
          type: 'line',
          turn,
          ts: ev.ts,
          variant: 'exit',
          level: abnormal ? 'warning' : 'info',
          text: d.requested
            ? 'The agent process ended.'
            : abnormal
              ? 'The agent process ended on its own, unexpectedly.'
              : 'The agent process ended on its own.',
          hover: technical
        });
        break;
      }
      case 'stderr': {
        const lines: string[] = Array.isArray(d.lines) ? d.lines.map(String) : [];
        this.add<ILineItem>({
          type: 'line',
          turn,
          ts: ev.ts,
          variant: 'stderr',
          level: 'error',
          text: 'Agent stderr (last lines)',
          detail: lines
        });
        break;
      }
      case 'notice': {
        const level = ['info', 'warning', 'error'].includes(d.level) ? d.level : 'info';
        this.add<ILineItem>({
          type: 'line',
          turn,
          ts: ev.ts,
          variant: 'notice',
          level,
          text: String(d.text ?? '')
        });
        break;
      }
      case 'state': {
        const line = STATE_LINES[String(d.state)];
        if (line) {
          this.add<ILineItem>({ type: 'line', turn, ts: ev.ts, variant: 'state', ...line });
        }
        break;
      }
      case 'config_change':
        this.add<ILineItem>({ type: 'line', turn, ts: ev.ts, variant: 'config', level: 'info', text: changeText(d) });
        break;
      case 'session_info':
        if (typeof d.title === 'string' && d.title) {
          this.titleChanged.emit(d.title);
        }
        break;
      default:
        if (WORKSPACE_KINDS.has(ev.kind)) {
          this.add<IWorkspaceItem>({ type: 'workspace', turn, ts: ev.ts, kind: ev.kind, data: d });
        }
        // process_start and unknown kinds are not shown.
        break;
    }
  }

  private updateTool(item: IToolItem, d: any): void {
    if (d.title !== undefined && d.title !== null) {
      item.title = String(d.title);
    }
    if (d.kind !== undefined && d.kind !== null) {
      item.kind = String(d.kind);
    }
    if (d.status !== undefined && d.status !== null) {
      item.status = String(d.status);
    }
    if (Array.isArray(d.content)) {
      item.content = d.content;
    }
    if (Array.isArray(d.locations)) {
      item.locations = d.locations;
    }
    if (d.raw_input !== undefined) {
      item.rawInput = d.raw_input;
    }
    if (d.raw_output !== undefined) {
      item.rawOutput = d.raw_output;
    }
    this.touch(item);
  }

  /**
   * A request may come before the agent describes its tool call (Codex asks about a file change
   * first, with no path): what arrives later about that call fills the waiting card in.
   */
  private completePermissions(turn: number | null, tool: IToolItem): void {
    for (const p of this.permissions.values()) {
      if (p.answer || p.turn !== turn || p.tool.toolCallId !== tool.toolCallId) {
        continue;
      }
      const info = p.tool;
      let changed = false;
      if (!info.content.length && tool.content.length) {
        info.content = tool.content;
        changed = true;
      }
      if (!info.locations.length && tool.locations.length) {
        info.locations = tool.locations;
        changed = true;
      }
      if (info.rawInput === undefined && tool.rawInput !== undefined) {
        info.rawInput = tool.rawInput;
        changed = true;
      }
      if (changed) {
        this.touch(p);
      }
    }
  }

  private noteFiles(turn: number | null, item: IToolItem): void {
    if (turn === null) {
      return;
    }
    let set = this.filesByTurn.get(turn);
    if (!set) {
      set = new Set();
      this.filesByTurn.set(turn, set);
    }
    for (const c of item.content) {
      if (c.type === 'diff' && (c as any).path) {
        set.add(String((c as any).path));
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Sessions: the live list every surface shows.
// ---------------------------------------------------------------------------


export type SessionsChange =
  | { type: 'reset' }
  | { type: 'session'; session: ISession; previous: ISession | undefined }
  | { type: 'forgotten'; id: string };

/** The order states are listed in when sorting by status: what needs attention first. */
export const STATE_ORDER: Record<string, number> = {
  running: 0,
  interrupting: 1,
  starting: 2,
  idle: 3,
  paused: 4,
  stopping: 5,
  failed: 6,
  stopped: 7
};

export type SortKey = 'activity' | 'status' | 'agent' | 'folder';
/** `attention`: the triage inbox — Needs you, then Working, then the rest. */
export type GroupKey = 'attention' | 'none' | 'folder' | 'agent' | 'notebook';

export const ATTENTION_GROUPS = ['Needs you', 'Working', 'Other sessions'] as const;

/** The triage group of a session (see ATTENTION_GROUPS). */
export function attentionGroup(s: ISession): (typeof ATTENTION_GROUPS)[number] {
  if (s.needs_you) {
    return 'Needs you';
  }
  return isWorking(s.state) ? 'Working' : 'Other sessions';
}

export function sortSessions(sessions: ISession[], key: SortKey): ISession[] {
  const byActivity = (a: ISession, b: ISession) => b.updated_at - a.updated_at;
  const cmp: Record<SortKey, (a: ISession, b: ISession) => number> = {
    activity: byActivity,
    status: (a, b) => (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9) || byActivity(a, b),
    agent: (a, b) => a.agent.localeCompare(b.agent) || byActivity(a, b),
    folder: (a, b) => a.cwd.localeCompare(b.cwd) || byActivity(a, b)
  };
  return sessions.slice().sort(cmp[key]);
}

function toolKey(turn: number | null, id: string): string {
  return `${turn ?? ''}:${id}`;
}

/** How a session came back, in a user's words (the engine's detail goes on hover). */
const RESUME_LINES: Record<string, string> = {
  thaw: 'Resumed after the pause.',
  native: 'Resumed: the agent picked up this conversation again.',
  seeded: 'Resumed: a new agent was given this conversation so far.'
};

/** The states that get a line of their own in the transcript. */
const STATE_LINES: Record<string, { level: 'info' | 'error'; text: string }> = {
  failed: { level: 'error', text: 'The session failed: the agent ended on its own.' },
  stopped: { level: 'info', text: 'Session stopped.' },
  paused: { level: 'info', text: 'Session paused.' }
};

/** Whether `a` is an older copy of the same session than `b` (by its log, then its clock). */
export function isOlder(a: ISession, b: ISession): boolean {
  if (a.last_seq !== b.last_seq) {
    return a.last_seq < b.last_seq;
  }
  if (a.updated_at !== b.updated_at) {
    return a.updated_at < b.updated_at;
  }
  // Marking seen changes neither the log nor the activity.
  return (a.seen_seq ?? 0) < (b.seen_seq ?? 0);
}

/** The sessions list, kept live from `api/glue/stream` (snapshot, then changes). */
export class SessionsModel {
  readonly changed = new Emitter<SessionsChange>();
  readonly statusChanged = new Emitter<StreamStatus>();
  private readonly _sessions = new Map<string, ISession>();
  private stream: ReconnectingStream | null = null;
  private _status: StreamStatus = 'connecting';
  private _loaded = false;

  constructor(readonly api: GlueAPI) {}

  get sessions(): ISession[] {
    return Array.from(this._sessions.values());
  }

  get size(): number {
    return this._sessions.size;
  }

  get status(): StreamStatus {
    return this._status;
  }

  /** True once the first snapshot arrived. */
  get loaded(): boolean {
    return this._loaded;
  }

  get(id: string): ISession | undefined {
    return this._sessions.get(id);
  }

  start(): void {
    if (this.stream) {
      return;
    }
    this.stream = this.api.sessionsStream({
      snapshot: sessions => {
        this._sessions.clear();
        for (const s of sessions) {
          this._sessions.set(s.id, s);
        }
        this._loaded = true;
        this.changed.emit({ type: 'reset' });
      },
      session: s => this.set(s),
      forgotten: id => {
        if (this._sessions.delete(id)) {
          this.changed.emit({ type: 'forgotten', id });
        }
      },
      status: status => {
        this._status = status;
        this.statusChanged.emit(status);
      }
    });
  }

  reconnect(): void {
    this.stream?.reconnectNow();
  }

  /** Record a session answered by a request (the stream will confirm it). */
  set(s: ISession): void {
    const previous = this._sessions.get(s.id);
    // The same object coming back (a view echoing what the list gave it) is no change.
    if (previous === s || (previous && isOlder(s, previous))) {
      return;
    }
    this._sessions.set(s.id, s);
    this.changed.emit({ type: 'session', session: s, previous });
  }

  remove(id: string): void {
    if (this._sessions.delete(id)) {
      this.changed.emit({ type: 'forgotten', id });
    }
  }

  dispose(): void {
    this.stream?.close();
    this.stream = null;
    this.changed.clear();
    this.statusChanged.clear();
  }
}
