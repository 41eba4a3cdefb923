/**
 * The glue_jupyter HTTP/WebSocket API (docs/contract.md), over a pluggable transport.
 *
 * Framework-free so the notebook widget bundle can use it without @jupyterlab:
 * the lab extension plugs in a transport built on ServerConnection (api.ts), the
 * widget one built on the page's own PageConfig and XSRF cookie (widget/transport.ts).
 */
import type {
  Control,
  IAgent,
  IAgentSession,
  IContextBlock,
  IEvent,
  IServerInfo,
  ISession,
  SessionState
} from './types';
import type { IChanges, IRewindResult, IWorktreeStatus, RewindTarget } from './workspace/types';

export interface IRequestInit {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
}

/** How requests reach the server. Paths are relative to the server's base URL. */
export interface ITransport {
  request(path: string, init?: IRequestInit): Promise<Response>;
  websocket(path: string): WebSocket;
}

/** An error answered by the server, carrying its plain-words message. */
export class GlueRequestError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'GlueRequestError';
  }
}

/** Whether the server answered 404: no such session (or, for any route, no glue extension). */
export function isNotFound(err: unknown): boolean {
  return err instanceof GlueRequestError && err.status === 404;
}

export interface IListParams {
  state?: SessionState | '';
  agent?: string;
  q?: string;
  sort?: string;
  notebook?: string;
}

export interface ICreateSession {
  agent: string;
  cwd: string;
  title?: string;
  prompt?: string;
  context?: IContextBlock[];
  notebook?: string;
  /** The agent's mode, model and other options to start with (set before the prompt). */
  mode?: string;
  model?: string;
  config?: Record<string, string | boolean>;
  /** Adopt this session the agent began elsewhere, instead of starting a new one. */
  agent_session_id?: string;
  /** Work in a git worktree of its own, on a new branch. */
  isolate?: boolean;
}

function query(params: Record<string, string | number | undefined | null>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') {
      continue;
    }
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export class GlueAPI {
  constructor(readonly transport: ITransport) {}

  private async call<T>(path: string, init?: IRequestInit): Promise<T> {
    let response: Response;
    try {
      response = await this.transport.request(path, init);
    } catch (err) {
      throw new GlueRequestError(
        `Could not reach the Jupyter server: ${(err as Error).message ?? err}`,
        0
      );
    }
    if (response.status === 204) {
      return undefined as unknown as T;
    }
    const text = await response.text();
    let body: any = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    if (!response.ok) {
      const message =
        (body && typeof body.message === 'string' && body.message) ||
        (response.status === 404
          ? `Not found: ${path}`
          : `The server answered ${response.status} ${response.statusText}`);
      throw new GlueRequestError(message, response.status);
    }
    return body as T;
  }

  info(): Promise<IServerInfo> {
    return this.call('api/glue/info');
  }

  async agents(): Promise<IAgent[]> {
    return (await this.call<{ agents: IAgent[] }>('api/glue/agents')).agents;
  }

  async listSessions(params: IListParams = {}): Promise<ISession[]> {
    const q = query({ ...params });
    return (await this.call<{ sessions: ISession[] }>(`api/glue/sessions${q}`)).sessions;
  }

  createSession(body: ICreateSession): Promise<ISession> {
    return this.call('api/glue/sessions', { method: 'POST', body });
  }

  getSession(id: string): Promise<ISession> {
    return this.call(`api/glue/sessions/${id}`);
  }

  rename(id: string, title: string): Promise<ISession> {
    return this.call(`api/glue/sessions/${id}`, { method: 'PATCH', body: { title } });
  }

  /** The user has seen the session's log up to `seq` (default: all of it). */
  markSeen(id: string, seq?: number): Promise<ISession> {
    return this.call(`api/glue/sessions/${id}/seen`, { method: 'POST', body: seq === undefined ? {} : { seq } });
  }

  forget(id: string): Promise<void> {
    return this.call(`api/glue/sessions/${id}`, { method: 'DELETE' });
  }

  /** While a turn runs the message is queued; `when: 'now'` steers or interrupts the turn for it. */
  prompt(id: string, text: string, context?: IContextBlock[], when?: 'queue' | 'now'): Promise<ISession> {
    const body: Record<string, unknown> = context?.length ? { text, context } : { text };
    if (when) {
      body.when = when;
    }
    return this.call(`api/glue/sessions/${id}/prompt`, { method: 'POST', body });
  }

  // -- a session's files, queue and forks (docs/contract.md, "Checkpoints, worktrees, queue and fork")

  changes(id: string, turn: number): Promise<IChanges> {
    return this.call(`api/glue/sessions/${id}/turns/${turn}/changes`);
  }

  rewindPreview(id: string, target: RewindTarget): Promise<IChanges> {
    return this.call(`api/glue/sessions/${id}/rewind${query(target as Record<string, string | number>)}`);
  }

  rewind(id: string, target: RewindTarget): Promise<{ rewind: IRewindResult; session: ISession }> {
    return this.call(`api/glue/sessions/${id}/rewind`, { method: 'POST', body: target });
  }

  worktree(id: string): Promise<IWorktreeStatus> {
    return this.call(`api/glue/sessions/${id}/worktree`);
  }

  worktreeAction(id: string, action: 'merge' | 'discard'): Promise<{ merge?: any; discard?: any; session: ISession }> {
    return this.call(`api/glue/sessions/${id}/worktree/${action}`, { method: 'POST', body: {} });
  }

  fork(id: string, body: { turn?: number; title?: string; isolate?: boolean } = {}): Promise<ISession> {
    return this.call(`api/glue/sessions/${id}/fork`, { method: 'POST', body });
  }

  editQueued(id: string, messageId: string, text: string): Promise<ISession> {
    return this.call(`api/glue/sessions/${id}/queue/${encodeURIComponent(messageId)}`, {
      method: 'PATCH',
      body: { text }
    });
  }

  removeQueued(id: string, messageId: string): Promise<ISession> {
    return this.call(`api/glue/sessions/${id}/queue/${encodeURIComponent(messageId)}`, { method: 'DELETE' });
  }

  sendQueuedNow(id: string, messageId: string): Promise<ISession> {
    return this.call(`api/glue/sessions/${id}/queue/${encodeURIComponent(messageId)}/send`, {
      method: 'POST',
      body: {}
    });
  }

  interrupt(id: string): Promise<ISession> {
    return this.control(id, 'interrupt');
  }

  pause(id: string): Promise<ISession> {
    return this.control(id, 'pause');
  }

  stop(id: string): Promise<ISession> {
    return this.control(id, 'stop');
  }

  /** One of the four lifecycle controls, by name (resume without a message). */
  control(id: string, control: Control): Promise<ISession> {
    return control === 'resume'
      ? this.resume(id)
      : this.call(`api/glue/sessions/${id}/${control}`, { method: 'POST', body: {} });
  }

  resume(id: string, prompt?: string, context?: IContextBlock[]): Promise<ISession> {
    const body = prompt ? (context?.length ? { prompt, context } : { prompt }) : {};
    return this.call(`api/glue/sessions/${id}/resume`, { method: 'POST', body });
  }

  /** Change the session's mode, model or another option ('mode'/'model' or an option id). */
  configure(id: string, option: string, value: string | boolean): Promise<ISession> {
    return this.call(`api/glue/sessions/${id}/config`, { method: 'POST', body: { option, value } });
  }

  /** The agent's own sessions for a folder, to adopt one (starts the agent briefly). */
  async agentSessions(agent: string, cwd: string): Promise<IAgentSession[]> {
    const path = `api/glue/agents/${encodeURIComponent(agent)}/sessions${query({ cwd })}`;
    return (await this.call<{ sessions: IAgentSession[] }>(path)).sessions;
  }

  answerPermission(id: string, requestId: string, optionId: string): Promise<ISession> {
    return this.call(`api/glue/sessions/${id}/permissions/${encodeURIComponent(requestId)}`, {
      method: 'POST',
      body: { option_id: optionId }
    });
  }

  async events(
    id: string,
    afterSeq = 0,
    limit?: number
  ): Promise<{ events: IEvent[]; last_seq: number }> {
    return this.call(`api/glue/sessions/${id}/events${query({ after_seq: afterSeq, limit })}`);
  }

  /** Follow one session's events from `afterSeq`, reconnecting from the last seen seq, until the
   * session no longer exists (status `gone`). */
  sessionStream(id: string, afterSeq: number, handlers: ISessionStreamHandlers): ReconnectingStream {
    let lastSeq = afterSeq;
    // A browser hides why a WebSocket handshake failed: ask the REST route whether it is a 404.
    const isGone = async () => {
      try {
        await this.getSession(id);
        return false;
      } catch (err) {
        return isNotFound(err);
      }
    };
    return new ReconnectingStream(
      () => this.transport.websocket(`api/glue/sessions/${id}/stream${query({ after_seq: lastSeq })}`),
      msg => {
        if (msg.type === 'events' && Array.isArray(msg.events)) {
          const fresh = (msg.events as IEvent[]).filter(e => e.seq > lastSeq);
          if (fresh.length) {
            lastSeq = fresh[fresh.length - 1].seq;
            handlers.events(fresh);
          }
        } else if (msg.type === 'live') {
          handlers.live?.(msg.last_seq);
        }
      },
      handlers.status,
      { isGone }
    );
  }

  /** Follow every session: a snapshot on each (re)connect, then changes. */
  sessionsStream(handlers: ISessionsStreamHandlers): ReconnectingStream {
    return new ReconnectingStream(
      () => this.transport.websocket('api/glue/stream'),
      msg => {
        if (msg.type === 'snapshot') {
          handlers.snapshot(msg.sessions as ISession[]);
        } else if (msg.type === 'session') {
          handlers.session(msg.session as ISession);
        } else if (msg.type === 'forgotten') {
          handlers.forgotten(msg.id as string);
        }
      },
      handlers.status
    );
  }
}

/** `gone`: the server says the thing streamed no longer exists; the stream has stopped. */
export type StreamStatus = 'connecting' | 'open' | 'reconnecting' | 'closed' | 'gone';

/** Close code of a session stream whose session was forgotten (the server's GONE). */
export const CLOSE_GONE = 4004;

export interface IReconnectOptions {
  /** Longest wait between attempts, in ms. */
  maxDelay?: number;
  /** Asked after a connection failed before it opened: true ends the stream as `gone`. */
  isGone?: () => Promise<boolean>;
}

export interface ISessionStreamHandlers {
  events(events: IEvent[]): void;
  live?(lastSeq: number): void;
  status?(status: StreamStatus): void;
}

export interface ISessionsStreamHandlers {
  snapshot(sessions: ISession[]): void;
  session(session: ISession): void;
  forgotten(id: string): void;
  status?(status: StreamStatus): void;
}

/**
 * A WebSocket that reconnects with exponential backoff (0.5 s doubling to 30 s, with
 * jitter) until closed, or until what it streams is gone (closed with 4004, or a failed
 * handshake that `isGone` confirms). The factory is called on every attempt so it can
 * resume from the last sequence number it saw.
 */
export class ReconnectingStream {
  private ws: WebSocket | null = null;
  private closed = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly maxDelay: number;

  constructor(
    private readonly factory: () => WebSocket,
    private readonly onMessage: (msg: any) => void,
    private readonly onStatus?: (status: StreamStatus) => void,
    private readonly options: IReconnectOptions = {}
  ) {
    this.maxDelay = options.maxDelay ?? 30000;
    this.connect();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Reconnect now (e.g. the page came back online), skipping the remaining backoff. */
  reconnectNow(): void {
    if (this.closed) {
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.ws) {
      this.connect();
    }
  }

  close(): void {
    this.stop('closed');
  }

  private stop(status: 'closed' | 'gone'): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.onmessage = null;
      ws.onerror = null;
      ws.close();
    }
    this.onStatus?.(status);
  }

  private connect(): void {
    if (this.closed) {
      return;
    }
    this.onStatus?.(this.attempt ? 'reconnecting' : 'connecting');
    let ws: WebSocket;
    try {
      ws = this.factory();
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.onStatus?.('open');
    };
    ws.onmessage = ev => {
      let msg: any;
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data));
      } catch {
        return;
      }
      this.onMessage(msg);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
    ws.onclose = ev => {
      if (this.ws === ws) {
        this.ws = null;
      }
      if (ev.code === CLOSE_GONE) {
        this.stop('gone');
      } else if (!opened && this.options.isGone) {
        this.onStatus?.('reconnecting');
        void this.options.isGone().then(
          gone => (gone ? this.stop('gone') : this.schedule()),
          () => this.schedule()
        );
      } else {
        this.schedule();
      }
    };
  }

  private schedule(): void {
    if (this.closed) {
      return;
    }
    const base = Math.min(this.maxDelay, 500 * 2 ** this.attempt);
    this.attempt += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    this.onStatus?.('reconnecting');
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}
