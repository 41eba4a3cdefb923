/**
 * A list of file changes (a turn's, a rewind preview's, a worktree's against its base):
 * a summary line, then one row per file — status, path, +added −removed, binary and mode
 * changes named — each opening onto its unified diff.
 */
import { h } from '../transcript/dom';
import type { IChanges, IFileChange } from './types';

const STATUS: Record<string, { mark: string; label: string }> = {
  added: { mark: 'A', label: 'added' },
  modified: { mark: 'M', label: 'modified' },
  deleted: { mark: 'D', label: 'deleted' },
  renamed: { mark: 'R', label: 'renamed' },
  'type changed': { mark: 'T', label: 'type changed' },
  restored: { mark: 'M', label: 'restored' }
};

export function summaryText(c: { files: number; added: number; removed: number; binary?: number }): string {
  const files = `${c.files} file${c.files === 1 ? '' : 's'}`;
  const binary = c.binary ? `, ${c.binary} binary` : '';
  return `${files} · +${c.added} −${c.removed}${binary}`;
}

/** "+12 −3" as two coloured spans. */
export function counts(added: number, removed: number): HTMLElement {
  return h(
    'span',
    { class: 'jp-GlueChanges-counts' },
    h('span', { class: 'jp-GlueChanges-added', text: `+${added}` }),
    ' ',
    h('span', { class: 'jp-GlueChanges-removed', text: `−${removed}` })
  );
}

function modeNote(c: IFileChange): string {
  if (c.old_mode && c.new_mode && c.old_mode !== c.new_mode) {
    if (c.new_mode === '100755') {
      return 'now executable';
    }
    if (c.old_mode === '100755') {
      return 'no longer executable';
    }
    if (c.new_mode === '120000') {
      return 'now a symbolic link';
    }
    return `mode ${c.old_mode} → ${c.new_mode}`;
  }
  if (c.status === 'added' && c.new_mode === '120000') {
    return 'symbolic link';
  }
  return '';
}

/** A unified diff as lines, without git's header lines. */
export function renderUnifiedDiff(diff: string, truncated = false): HTMLElement {
  const pre = h('pre', { class: 'jp-GlueDiff-lines jp-GlueChanges-diff' });
  let inHunk = false;
  for (const line of diff.replace(/\n$/, '').split('\n')) {
    if (!inHunk && !line.startsWith('@@')) {
      continue; // diff --git, index, ---, +++, mode lines: said in the row above
    }
    inHunk = true;
    let cls = '';
    if (line.startsWith('@@')) {
      cls = 'jp-mod-skip';
    } else if (line.startsWith('+')) {
      cls = 'jp-mod-added';
    } else if (line.startsWith('-')) {
      cls = 'jp-mod-removed';
    } else if (line.startsWith('\\')) {
      cls = 'jp-mod-skip';
    }
    pre.appendChild(h('span', { class: `jp-GlueDiff-line ${cls}`, text: line + '\n' }));
  }
  if (truncated) {
    pre.appendChild(h('span', { class: 'jp-GlueDiff-line jp-mod-skip', text: '… the rest of this diff is too long to show\n' }));
  }
  if (!pre.childNodes.length) {
    pre.appendChild(h('span', { class: 'jp-GlueDiff-line jp-mod-skip', text: 'No line changes (mode or name only).\n' }));
  }
  return pre;
}

export interface IChangesViewOptions {
  /** Open every file's diff at once (few files), or only on click. */
  open?: boolean;
  /** Shown when there is nothing. */
  emptyText?: string;
}

export function renderChanges(changes: IChanges, opts: IChangesViewOptions = {}): HTMLElement {
  const root = h('div', { class: 'jp-GlueChanges' });
  const files = changes.changes ?? [];
  if (!files.length) {
    root.appendChild(h('div', { class: 'jp-GlueChanges-empty', text: opts.emptyText ?? 'No files changed.' }));
  }
  // Few small diffs read best open; many or long ones, one file at a time.
  const lines = files.reduce((n, c) => n + c.added + c.removed, 0);
  const openAll = opts.open ?? (files.length <= 6 && lines <= 300);
  for (const c of files) {
    const status = STATUS[c.status] ?? { mark: '?', label: c.status };
    const note = c.binary ? 'binary file' : modeNote(c);
    const summary = h(
      'summary',
      { class: 'jp-GlueChanges-row' },
      h('span', { class: `jp-GlueChanges-status jp-mod-${c.status.replace(/\s+/g, '-')}`, title: status.label, text: status.mark }),
      h(
        'span',
        { class: 'jp-GlueChanges-path', title: c.path },
        c.old_path ? h('span', { class: 'jp-GlueChanges-oldPath', text: `${c.old_path} → ` }) : '',
        c.path
      ),
      note ? h('span', { class: 'jp-GlueChanges-note', text: note }) : '',
      c.binary ? '' : counts(c.added, c.removed)
    );
    const details = h('details', { class: 'jp-GlueChanges-file', 'data-path': c.path, 'data-status': c.status }, summary);
    if (c.diff) {
      details.appendChild(renderUnifiedDiff(c.diff, c.truncated));
      if (openAll) {
        details.open = true;
      }
    } else if (c.binary) {
      details.appendChild(h('div', { class: 'jp-GlueChanges-binary', text: 'Binary file: contents not shown.' }));
    }
    root.appendChild(details);
  }
  if (changes.skipped?.length) {
    root.appendChild(
      h('div', {
        class: 'jp-GlueChanges-skipped',
        text: `Not checkpointed (too large): ${changes.skipped.join(', ')}`
      })
    );
  }
  if (changes.note) {
    root.appendChild(h('div', { class: 'jp-GlueChanges-noteLine', text: changes.note }));
  }
  return root;
}
