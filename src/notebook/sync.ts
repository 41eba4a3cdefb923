/**
 * Open documents follow what the agent changed on disk.
 *
 * For every active session it follows the event stream from the moment it is seen; a tool
 * call that completes with a diff, and a turn that ends with files, name paths the agent
 * changed. For each open document of such a path:
 *
 * - no unsaved edits: it is reloaded from disk at once, and a short notice says so;
 * - unsaved edits: nothing is overwritten, the user is told with the change one click away
 *   and chooses: reload the agent's version, or keep theirs (saved over it). Until then its
 *   saves are held, so JupyterLab's "File Changed" dialog never pops up mid-typing;
 * - a collaborative document (jupyter-collaboration): the shared document takes the change
 *   from disk by itself; the user is told.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { Contents } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

import { GlueAPI, ReconnectingStream } from '../client';
import { SessionsModel } from '../model';
import { lineDiff, withContext } from '../transcript/diff';
import { h } from '../transcript/dom';
import { IEvent, ISession, SessionState } from '../types';
import { absolute, basename, relativeToRoot } from './paths';

const FOLLOWED: SessionState[] = ['starting', 'idle', 'running', 'interrupting'];

export interface IFileSyncOptions {
  api: GlueAPI;
  model: SessionsModel;
  contents: Contents.IManager;
  /** The server's root directory, resolved (api/glue/info). */
  rootDir: Promise<string | null>;
  /** Open contexts of a path relative to the server root. */
  contextsFor: (path: string) => DocumentRegistry.Context[];
  /** Open a session's transcript. */
  openSession: (id: string) => void;
}

/** The agent's change to one file, as the transcript shows it. */
interface IChange {
  session: ISession;
  turn: number | null;
  path: string;
  oldText: string | null;
  newText: string | null;
}

export class FileSync {
  private readonly streams = new Map<string, ReconnectingStream>();
  private readonly lastDiff = new Map<string, IChange>();
  private readonly pending = new Map<DocumentRegistry.Context, Conflict>();
  /** Collaborative documents already told about, per session, turn and path. */
  private readonly told = new Set<string>();
  private root: string | null = null;
  private disposed = false;
  /** Batches are handled one after the other: two syncs of a file never interleave. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly opts: IFileSyncOptions) {
    void opts.rootDir.then(root => {
      this.root = root;
      this.follow();
    });
    opts.model.changed.connect(() => this.follow());
  }

  dispose(): void {
    this.disposed = true;
    for (const stream of this.streams.values()) {
      stream.close();
    }
    this.streams.clear();
  }

  /** Follow the streams of active sessions, from where they are now. */
  private follow(): void {
    if (this.disposed || this.root === null) {
      return;
    }
    const active = new Set<string>();
    for (const s of this.opts.model.sessions) {
      if (!FOLLOWED.includes(s.state)) {
        continue;
      }
      active.add(s.id);
      if (!this.streams.has(s.id)) {
        this.streams.set(
          s.id,
          this.opts.api.sessionStream(s.id, s.last_seq, {
            events: events => {
              void this.serially(() => this.onEvents(s.id, events));
            }
          })
        );
      }
    }
    for (const [id, stream] of this.streams) {
      if (!active.has(id)) {
        stream.close();
        this.streams.delete(id);
      }
    }
  }

  /**
   * Run `job` after every sync and answer before it. A user's answer to a conflict is one of them:
   * the turn's end names the file again, and met halfway through "Keep mine" (saved, not yet
   * reloaded) it looked like a new change and asked the user a second time.
   */
  private serially(job: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(job).catch(err => {
      console.warn('glue_jupyter: could not bring an open document in step', err);
    });
    return this.queue;
  }

  private async onEvents(id: string, events: IEvent[]): Promise<void> {
    const session = this.opts.model.get(id);
    if (!session) {
      return;
    }
    const paths = new Map<string, number | null>();
    for (const ev of events) {
      const d = ev.data ?? {};
      if ((ev.kind === 'tool_call' || ev.kind === 'tool_call_update') && Array.isArray(d.content)) {
        for (const c of d.content) {
          if (c?.type === 'diff' && c.path) {
            const path = absolute(String(c.path), session.cwd);
            this.lastDiff.set(path, {
              session,
              turn: ev.turn,
              path,
              oldText: c.old_text ?? null,
              newText: c.new_text ?? null
            });
            if (d.status === 'completed') {
              paths.set(path, ev.turn);
            }
          }
        }
      } else if (ev.kind === 'turn_end' && Array.isArray(d.files)) {
        for (const f of d.files) {
          paths.set(absolute(String(f), session.cwd), ev.turn);
        }
      }
    }
    for (const [path, turn] of paths) {
      await this.sync(path, session, turn);
    }
  }

  /** Bring the open documents of `path` in step with the disk. */
  async sync(path: string, session: ISession, turn: number | null): Promise<void> {
    const rel = this.root === null ? null : relativeToRoot(path, this.root);
    if (rel === null) {
      return;
    }
    for (const context of this.opts.contextsFor(rel)) {
      if (this.pending.has(context)) {
        continue; // the user is already asked about this file
      }
      const change = this.lastDiff.get(path) ?? { session, turn, path, oldText: null, newText: null };
      if (context.model.collaborative) {
        const key = `${session.id}:${turn}:${path}`;
        if (!this.told.has(key)) {
          this.told.add(key);
          this.tell(`${basename(rel)} was changed by the agent${turnText(turn)}; the shared document took the change.`, change);
        }
        continue;
      }
      let disk: Contents.IModel;
      try {
        disk = await this.opts.contents.get(rel, { content: false, hash: true });
      } catch {
        continue; // deleted or unreadable: JupyterLab says so when it next saves
      }
      const known = context.contentsModel;
      const same = disk.hash && known?.hash ? disk.hash === known.hash : disk.last_modified === known?.last_modified;
      if (same) {
        continue;
      }
      if (!hasOwnEdits(context, change)) {
        await context.revert();
        context.model.dirty = false;
        this.tell(`Reloaded ${basename(rel)}: the agent changed it${turnText(turn)}.`, change);
      } else {
        const conflict = new Conflict(context, rel, change, this.opts, {
          serially: job => this.serially(job),
          done: () => this.pending.delete(context)
        });
        this.pending.set(context, conflict);
      }
    }
  }

  private tell(message: string, change: IChange): void {
    Notification.info(message, {
      autoClose: 6000,
      actions: [{ label: 'Show changes', callback: () => void showChange(change, null, this.opts) }]
    });
  }
}

/**
 * Whether the open document holds edits of the user's that a reload would lose. A notebook
 * is marked dirty by mere metadata (the kernel's language info) as soon as it opens; what
 * counts is whether its cells (type, source, outputs) differ from the file the agent started
 * from, when the agent's diff tells what that was.
 */
function hasOwnEdits(context: DocumentRegistry.Context, change: IChange): boolean {
  if (!context.model.dirty) {
    return false;
  }
  if (change.oldText === null) {
    return true;
  }
  if (context.contentsModel?.type !== 'notebook') {
    return context.model.toString() !== change.oldText;
  }
  try {
    const cells = (nb: any) =>
      JSON.stringify(
        (nb?.cells ?? []).map((c: any) => [
          c.cell_type,
          Array.isArray(c.source) ? c.source.join('') : String(c.source ?? ''),
          c.outputs ?? null
        ])
      );
    return cells(context.model.toJSON()) !== cells(JSON.parse(change.oldText));
  } catch {
    return true;
  }
}

function turnText(turn: number | null): string {
  return turn === null ? '' : ` (turn ${turn})`;
}

/**
 * A document with unsaved edits whose file the agent changed: the user decides. Meanwhile
 * its saves (autosave included) are held rather than answered by JupyterLab's conflict dialog.
 */
class Conflict {
  private notification = '';
  private readonly heldSave: () => Promise<void>;

  constructor(
    private readonly context: DocumentRegistry.Context,
    private readonly rel: string,
    private readonly change: IChange,
    private readonly opts: IFileSyncOptions,
    private readonly sync: { serially: (job: () => Promise<void>) => Promise<void>; done: () => void }
  ) {
    this.heldSave = context.save;
    (context as any).save = async () => this.remind();
    context.disposed.connect(() => this.finish());
    this.remind();
  }

  /** Show the choice, unless it is on screen already. */
  remind(): void {
    if (this.notification && Notification.manager.has(this.notification)) {
      return;
    }
    const message =
      `The agent changed ${basename(this.rel)}${turnText(this.change.turn)} while you have unsaved edits. ` +
      'Nothing was overwritten; your saves wait until you choose.';
    const options = {
      autoClose: false as const,
      actions: [
        {
          label: 'Show changes',
          callback: (event: Event) => {
            event.preventDefault(); // keep the choice on screen
            void showChange(this.change, { context: this.context, rel: this.rel }, this.opts);
          }
        },
        {
          label: "Reload the agent's version",
          caption: 'Discard your unsaved edits and load the file as the agent left it',
          callback: () => void this.sync.serially(() => this.reload())
        },
        {
          label: 'Keep mine',
          caption: "Save your version over the agent's (its change stays in the transcript)",
          displayType: 'accent' as const,
          callback: () => void this.sync.serially(() => this.keepMine())
        }
      ]
    };
    this.notification = Notification.warning(message, options);
  }

  private finish(): void {
    if ((this.context as any).save !== this.heldSave) {
      delete (this.context as any).save; // the prototype's save again
    }
    if (this.notification) {
      Notification.dismiss(this.notification);
    }
    this.sync.done();
  }

  private async reload(): Promise<void> {
    this.finish();
    await this.context.revert();
    this.context.model.dirty = false;
  }

  private async keepMine(): Promise<void> {
    this.finish();
    const known = this.context.contentsModel;
    const notebook = known?.type === 'notebook';
    await this.opts.contents.save(this.rel, {
      type: known?.type ?? 'file',
      format: notebook ? 'json' : (known?.format ?? 'text'),
      content: notebook ? this.context.model.toJSON() : this.context.model.toString()
    });
    await this.context.revert(); // now in step with the disk, which holds the user's version
    this.context.model.dirty = false;
  }
}

/** A dialog with the agent's change to the file (or, without one, yours against the disk). */
async function showChange(
  change: IChange,
  open: { context: DocumentRegistry.Context; rel: string } | null,
  opts: IFileSyncOptions
): Promise<void> {
  let oldText = change.oldText;
  let newText = change.newText;
  let caption = `The agent's change${turnText(change.turn)}`;
  if (newText === null && open) {
    try {
      const disk = await opts.contents.get(open.rel, { content: true, format: 'text', type: 'file' });
      caption = 'Your unsaved version (−) against the file as the agent left it (+)';
      oldText = open.context.model.toString();
      newText = String(disk.content ?? '');
    } catch {
      /* the dialog says there is no diff */
    }
  }
  const body = new Widget({ node: diffNode(change.path, oldText, newText, caption) });
  const result = await showDialog({
    title: `${basename(change.path)} — changed by the agent`,
    body,
    buttons: [Dialog.cancelButton({ label: 'Close' }), Dialog.okButton({ label: 'Open the session' })]
  });
  if (result.button.accept) {
    opts.openSession(change.session.id);
  }
}

function diffNode(path: string, oldText: string | null, newText: string | null, caption: string): HTMLElement {
  const pre = h('pre', { class: 'jp-GlueDiff-lines' });
  if (newText === null) {
    pre.textContent = 'The transcript has no diff of this file for this turn; open the session to see what the agent did.';
  } else {
    for (const l of withContext(lineDiff(oldText, newText))) {
      const cls = l.op === '+' ? 'jp-mod-added' : l.op === '-' ? 'jp-mod-removed' : l.op === '…' ? 'jp-mod-skip' : '';
      pre.appendChild(h('span', { class: `jp-GlueDiff-line ${cls}`, text: `${l.op === '…' ? '⋯' : l.op} ${l.text}\n` }));
    }
  }
  return h(
    'div',
    { class: 'jp-GlueDiff jp-GlueSyncDiff' },
    h('div', { class: 'jp-GlueDiff-path' }, caption, ' · ', h('code', { text: path })),
    pre
  );
}
