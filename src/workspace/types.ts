/**
 * Shapes of the workspace routes (docs/contract.md, "Checkpoints, worktrees, queue and fork").
 */

export interface IFileChange {
  path: string;
  status: 'added' | 'modified' | 'deleted' | 'renamed' | 'type changed' | string;
  old_path?: string | null;
  added: number;
  removed: number;
  binary: boolean;
  old_mode?: string | null;
  new_mode?: string | null;
  /** Unified diff; null for binary files. */
  diff?: string | null;
  truncated?: boolean;
}

/** A turn's changes, a rewind preview, or a worktree's changes against its base. */
export interface IChanges {
  turn?: number;
  to?: string;
  label?: string;
  live?: boolean;
  files: number;
  added: number;
  removed: number;
  binary?: number;
  changes: IFileChange[];
  skipped?: string[];
  note?: string;
  root?: string;
  scope?: string;
  kind?: 'git' | 'folder';
}

export interface IWorktreeStatus extends IChanges {
  path: string;
  branch: string;
  base: string | null;
  base_commit: string;
  repo: string;
  ahead: number;
  behind: number;
  uncommitted: number;
}

export interface IQueuedMessage {
  id: string;
  text: string;
  created_at?: number;
  now?: boolean;
}

export interface IWorkspaceInfo {
  checkpoints: 'git' | 'folder' | null;
  checkpoints_unavailable: string | null;
  worktree: { path: string; branch: string; base: string | null; base_commit: string } | null;
  forked_from: { session: string; turn: number } | null;
  forks: { session: string; turn: number; at?: number }[];
  operation: string | null;
}

export interface IRewindResult {
  to: string;
  label: string;
  undo: string;
  files: number;
}

export type RewindTarget = { to_turn: number } | { to_checkpoint: string };

/** Event kinds the transcript shows as 'workspace' items (src/workspace/transcript-items.ts). */
export const WORKSPACE_KINDS = new Set(['turn_changes', 'rewind', 'worktree', 'merge', 'discard', 'fork', 'forked_from']);
