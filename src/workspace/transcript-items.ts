/**
 * How the transcript shows what happened to the session's files and conversation: each
 * turn's changes (counts, the files, "Show diffs", "Rewind…", "Fork from here"), rewinds
 * (with "Undo"), the worktree, merges, discards and forks. The session view supplies the
 * actions; the transcript renderer calls `fillWorkspaceItem` for items of type 'workspace'.
 */
import type { IWorkspaceItem } from '../model';
import { h } from '../transcript/dom';
import { counts, renderChanges } from './changes-view';
import type { IChanges, IFileChange, RewindTarget } from './types';

export interface IWorkspaceActions {
  loadChanges(turn: number): Promise<IChanges>;
  /** Ask (with a preview) and rewind; resolves once done or cancelled. */
  rewind(target: RewindTarget, label: string): Promise<void>;
  fork(turn: number): Promise<void>;
  openSession(id: string): void;
  /** Why files cannot be rewound now (a turn runs), or null when they can. */
  rewindBlocked(): string | null;
}

function button(label: string, title: string, onClick: (b: HTMLButtonElement) => void): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'jp-GlueButton jp-GlueWorkspace-action', title, text: label });
  b.addEventListener('click', ev => {
    ev.stopPropagation();
    onClick(b);
  });
  return b;
}

function fileList(changes: IFileChange[], more: number): HTMLElement {
  const list = h('div', { class: 'jp-GlueWorkspace-files' });
  for (const c of changes) {
    list.appendChild(
      h(
        'code',
        { class: `jp-GlueFile jp-mod-${c.status.replace(/\s+/g, '-')}`, title: `${c.status}${c.old_path ? ` from ${c.old_path}` : ''}` },
        c.path
      )
    );
  }
  if (more) {
    list.appendChild(h('span', { class: 'jp-GlueWorkspace-more', text: `and ${more} more` }));
  }
  return list;
}

/** What a transcript search finds in the item while it is not drawn: its label and file paths. */
export function workspaceSearchText(item: IWorkspaceItem): string {
  const d = item.data ?? {};
  const paths = Array.isArray(d.changes) ? d.changes.map((c: { path?: string }) => c.path ?? '') : [];
  return [d.label ?? '', d.branch ?? '', ...paths].filter(Boolean).join('\n');
}

export function fillWorkspaceItem(el: HTMLElement, item: IWorkspaceItem, actions: IWorkspaceActions | undefined): void {
  el.textContent = '';
  el.dataset.kind = item.kind;
  const d = item.data ?? {};
  switch (item.kind) {
    case 'turn_changes':
      fillTurnChanges(el, item, actions);
      break;
    case 'rewind': {
      const text = d.recovered
        ? `Finished a rewind to ${d.label} that a server stop interrupted (${d.files} file${d.files === 1 ? '' : 's'})`
        : `Files rewound to ${d.label}: ${d.files} file${d.files === 1 ? '' : 's'} restored or removed`;
      el.appendChild(h('span', { class: 'jp-GlueWorkspace-text', text }));
      if (actions && d.undo) {
        el.appendChild(
          button('Undo rewind', `Put the files back as they were just before this rewind (checkpoint ${d.undo})`, () =>
            void actions.rewind({ to_checkpoint: d.undo }, `just before this rewind`)
          )
        );
      }
      break;
    }
    case 'worktree':
      el.appendChild(h('span', { class: 'jp-GlueWorkspace-text', text: String(d.note ?? `Working in ${d.path} on ${d.branch}`) }));
      break;
    case 'merge':
      el.appendChild(
        h('span', {
          class: 'jp-GlueWorkspace-text',
          text:
            d.how === 'nothing to merge'
              ? `Nothing to merge: ${d.base} already has everything on ${d.branch}`
              : `Merged ${d.branch} into ${d.base} (${d.how}${d.committed_uncommitted_work ? ', uncommitted work committed first' : ''})`
        })
      );
      break;
    case 'discard':
      el.appendChild(
        h('span', { class: 'jp-GlueWorkspace-text', text: `Discarded the worktree's work: ${d.branch} is back at ${d.base ?? 'its base'}` })
      );
      if (actions && d.undo) {
        el.appendChild(
          button('Undo discard', 'Put the files back as they were before the discard', () =>
            void actions.rewind({ to_checkpoint: d.undo }, 'just before the discard')
          )
        );
      }
      break;
    case 'fork':
      el.appendChild(h('span', { class: 'jp-GlueWorkspace-text', text: `Forked at turn ${d.turn} as “${d.title}”` }));
      if (actions) {
        el.appendChild(button('Open fork', 'Open the forked session', () => actions.openSession(String(d.session))));
      }
      break;
    case 'forked_from': {
      const how = d.via === 'native' ? 'the agent forked its own session' : 'a new agent session, seeded with the transcript';
      el.appendChild(
        h('span', { class: 'jp-GlueWorkspace-text', text: `Forked from “${d.title || 'a session'}” at turn ${d.turn} (${how}); working ${d.where}` })
      );
      if (actions) {
        el.appendChild(button('Open original', 'Open the session this one was forked from', () => actions.openSession(String(d.session))));
      }
      break;
    }
  }
}

function fillTurnChanges(el: HTMLElement, item: IWorkspaceItem, actions: IWorkspaceActions | undefined): void {
  const d = item.data ?? {};
  const turn = Number(d.turn ?? item.turn);
  const head = h(
    'div',
    { class: 'jp-GlueWorkspace-head' },
    h('span', { class: 'jp-GlueWorkspace-label', text: 'Changes' }),
    d.files ? h('span', { class: 'jp-GlueWorkspace-summary', text: `${d.files} file${d.files === 1 ? '' : 's'}` }) : h('span', { class: 'jp-GlueWorkspace-summary', text: 'no files changed' }),
    d.files ? counts(Number(d.added ?? 0), Number(d.removed ?? 0)) : ''
  );
  el.appendChild(head);
  if (d.files) {
    el.appendChild(fileList(Array.isArray(d.changes) ? d.changes : [], Number(d.more ?? 0)));
  }
  if (!actions) {
    return;
  }
  const panel = h('div', { class: 'jp-GlueWorkspace-panel' });
  const buttons = h('div', { class: 'jp-GlueWorkspace-buttons' });
  if (d.files) {
    const show = button('Show diffs', `Every file turn ${turn} changed, with its diff`, async b => {
      if (panel.childNodes.length) {
        panel.textContent = '';
        b.textContent = 'Show diffs';
        b.setAttribute('aria-expanded', 'false');
        return;
      }
      b.disabled = true;
      panel.appendChild(h('div', { class: 'jp-GlueDialog-loading', text: 'Loading the diffs…' }));
      try {
        const changes = await actions.loadChanges(turn);
        panel.textContent = '';
        panel.appendChild(renderChanges(changes));
        b.textContent = 'Hide diffs';
        b.setAttribute('aria-expanded', 'true');
      } catch (err) {
        panel.textContent = '';
        panel.appendChild(h('div', { class: 'jp-GlueError', role: 'alert', text: (err as Error).message }));
      } finally {
        b.disabled = false;
      }
    });
    show.setAttribute('aria-expanded', 'false');
    buttons.appendChild(show);
  }
  const rewind = button('Rewind…', `Put the files back as they were before turn ${turn} (shows what would change first)`, () =>
    void actions.rewind({ to_turn: turn }, `before turn ${turn}`)
  );
  rewind.classList.add('jp-GlueWorkspace-rewind');
  const blocked = actions.rewindBlocked();
  if (blocked) {
    rewind.title = blocked;
  }
  buttons.appendChild(rewind);
  buttons.appendChild(
    button('Fork from here', `A new session that continues from turn ${turn}`, b => {
      b.disabled = true;
      void actions.fork(turn).finally(() => (b.disabled = false));
    })
  );
  el.appendChild(buttons);
  el.appendChild(panel);
}
