/**
 * The shapes of docs/contract.md, typed. Framework-free: shared by the JupyterLab
 * extension and the notebook widget bundle.
 */
import type { IQueuedMessage, IWorkspaceInfo } from './workspace/types';

export type SessionState =
  | 'starting'
  | 'idle'
  | 'running'
  | 'interrupting'
  | 'paused'
  | 'stopping'
  | 'stopped'
  | 'failed';

export const SESSION_STATES: SessionState[] = [
  'starting',
  'idle',
  'running',
  'interrupting',
  'paused',
  'stopping',
  'stopped',
  'failed'
];

export type ResumedVia = 'thaw' | 'native' | 'seeded';

export interface ISession {
  id: string;
  title: string;
  agent: string;
  cwd: string;
  state: SessionState;
  created_at: number;
  updated_at: number;
  paused_since: number | null;
  last_seq: number;
  exit_code: number | null;
  resumed_via: ResumedVia | null;
  agent_session_id?: string | null;
  pending_permissions: number;
  turns: number;
  error: string | null;
  /** The notebook the session was started from (absolute path), if any. */
  notebook?: string | null;
  /** The agent's own session state (docs/contract.md, "Agent options", "Usage"). */
  config?: IAgentOption[];
  mode?: string | null;
  model?: string | null;
  usage?: IUsage | null;
  commands?: IAgentCommand[];
  /** The user has seen the log up to here (docs/contract.md, "Needs you"). */
  seen_seq?: number;
  /** The last event that needs the user. */
  attention_seq?: number;
  /** Why the session waits for its user now, or null. */
  needs_you?: NeedsYou | null;
  /** In search results: where it matched. */
  match?: ISessionMatch;
  /** Messages waiting for the turn to end, in sending order. */
  queue?: IQueuedMessage[];
  /** Checkpoints, worktree and forks (src/workspace/). */
  workspace?: IWorkspaceInfo | null;
}

/** Where a search result matched (only in search results): a snippet with the matched words. */
export interface ISessionMatch {
  source: 'user' | 'agent' | 'title' | string;
  seq: number | null;
  turn: number | null;
  text: string;
  highlights: [number, number][];
}

/** Why a session needs its user: a permission request, a failure, a finished turn not yet seen. */
export type NeedsYou = 'permission' | 'failed' | 'turn_done';

/** What a "needs you" reason says, in a few words. */
export function needsYouText(s: Pick<ISession, 'needs_you' | 'pending_permissions'>): string {
  switch (s.needs_you) {
    case 'permission':
      return s.pending_permissions > 1
        ? `${s.pending_permissions} permission requests wait for you`
        : 'waits for your permission';
    case 'failed':
      return 'failed — not seen yet';
    case 'turn_done':
      return 'finished its turn — not seen yet';
    default:
      return '';
  }
}

/** The same in a word, for a list row's pill. */
export function needsYouWord(s: Pick<ISession, 'needs_you' | 'pending_permissions'>): string {
  switch (s.needs_you) {
    case 'permission':
      return s.pending_permissions > 1 ? `${s.pending_permissions} requests` : 'permission';
    case 'failed':
      return 'failed';
    case 'turn_done':
      return 'finished';
    default:
      return '';
  }
}

/** States in which the agent is at work (the panel's "Working" group). */
export function isWorking(state: SessionState): boolean {
  return ['starting', 'running', 'interrupting', 'stopping'].includes(state);
}

export interface IAgentCapabilities {
  load: boolean;
  resume: boolean;
  list: boolean;
  fork: boolean;
  close: boolean;
  /** What a prompt may hold: text, image, audio, embedded_context. */
  prompt: string[];
}

export interface IAgent {
  name: string;
  title?: string;
  installed: boolean;
  install_hint?: string | null;
  argv?: string[];
  /** What the agent reports in initialize (else its npm package's version). */
  version?: string | null;
  /** null: glue cannot tell, or has not checked yet. */
  signed_in?: boolean | null;
  sign_in?: { detail: string; hint: string; methods: { id: string | null; name: string | null }[] };
  sign_in_hint?: string;
  /** Null until the agent was checked (started briefly and asked). */
  capabilities?: IAgentCapabilities | null;
  check?: { ok: boolean; error: string | null; checked_at: number; ms?: number } | null;
  modes?: { start: string | null; bypass: string[] };
  /** The options and slash commands the agent's latest session was offered. */
  config?: IAgentOption[];
  commands?: IAgentCommand[];
}

export interface IServerInfo {
  version: string;
  active: number;
  limit: number;
  /** The folder relative cwds and notebooks resolve against (resolved, absolute). */
  root_dir?: string;
}

export type EventKind =
  | 'user_message'
  | 'agent_message_chunk'
  | 'agent_thought_chunk'
  | 'tool_call'
  | 'tool_call_update'
  | 'plan'
  | 'permission_request'
  | 'permission_answer'
  | 'turn_start'
  | 'turn_end'
  | 'state'
  | 'resume'
  | 'process_start'
  | 'process_exit'
  | 'stderr'
  | 'notice'
  | 'session_info';

export interface IEvent {
  seq: number;
  session_id: string;
  ts: number;
  kind: EventKind | string;
  turn: number | null;
  data: any;
}

/**
 * A context block of a prompt (docs/contract.md, "Prompt context"): an embedded resource
 * (`text`) or a resource link. In a user_message event, `sent_as` says how it reached the
 * agent, and `text` is exactly what was sent.
 */
export interface IContextBlock {
  type: 'resource' | 'resource_link';
  uri: string;
  name: string;
  title?: string;
  mime_type?: string;
  text?: string;
  description?: string;
  sent_as?: 'resource' | 'resource_link' | 'text';
}

export type ToolContent =
  | { type: 'text'; text: string }
  | { type: 'diff'; path: string; old_text: string | null; new_text: string }
  | { type: 'terminal'; terminal_id: string }
  | { type: string; [key: string]: any };

export interface IPlanEntry {
  content: string;
  priority?: string;
  status: 'pending' | 'in_progress' | 'completed' | string;
}

export interface IPermissionOption {
  option_id: string;
  name: string;
  kind: 'allow_once' | 'allow_always' | 'reject_once' | 'reject_always' | string;
}

/** A control a user can apply to a session. */
export type Control = 'interrupt' | 'pause' | 'stop' | 'resume';

/** The controls each state allows (DESIGN.md, "The lifecycle, exactly"). */
const ALLOWED: Record<Control, SessionState[]> = {
  interrupt: ['running'],
  pause: ['idle', 'running'],
  stop: ['starting', 'idle', 'running', 'interrupting', 'paused'],
  resume: ['paused', 'stopped', 'failed']
};

export function canControl(state: SessionState | undefined, control: Control): boolean {
  return !!state && ALLOWED[control].includes(state);
}

/** What sending a message does in a given state: prompt, resume with it, or nothing. */
export function sendAction(state: SessionState | undefined): 'prompt' | 'queue' | 'resume' | null {
  switch (state) {
    case 'idle':
      return 'prompt';
    case 'starting':
    case 'running':
    case 'interrupting':
      return 'queue'; // the server keeps it until the turn ends

    case 'paused':
    case 'stopped':
    case 'failed':
      return 'resume';
    default:
      return null;
  }
}

/** Whether a session's agent process is (or is about to be) alive. */
export function isLive(state: SessionState): boolean {
  return ['starting', 'idle', 'running', 'interrupting', 'stopping'].includes(state);
}

export function stateLabel(state: SessionState): string {
  return state.charAt(0).toUpperCase() + state.slice(1);
}

// ---------------------------------------------------------------------------
// The agent's own session state: options (mode, model, …), usage, slash commands.
// ---------------------------------------------------------------------------

export interface IAgentChoice {
  value: string;
  name: string;
  description?: string | null;
  group?: string;
  /** false for a mode the permission policy refuses (it would act without asking). */
  allowed?: boolean;
}

export interface IAgentOption {
  id: string;
  name: string;
  description?: string | null;
  /** The agent's hint: 'mode', 'model', 'thought_level', … */
  category?: string | null;
  type: 'select' | 'boolean';
  value: string | boolean;
  choices: IAgentChoice[];
}

export interface IUsage {
  context_used: number | null;
  context_size: number | null;
  cost: number | null;
  currency: string | null;
  input_tokens: number;
  output_tokens: number;
  thought_tokens: number;
  cached_read_tokens: number;
  cached_write_tokens: number;
  total_tokens: number;
}

export interface IAgentCommand {
  name: string;
  description: string;
  hint?: string | null;
}

/** One of the agent's own sessions (ACP session/list), which glue can adopt. */
export interface IAgentSession {
  agent_session_id: string;
  cwd: string | null;
  title: string | null;
  updated_at: string | null;
  glue_session_id: string | null;
}
