/**
 * "Needs you", signalled wherever the user is in JupyterLab: when a session starts to need its
 * user (a permission request, a failure, a finished turn not seen yet — the server's `needs_you`,
 * one truth for every surface) and the user is not looking at it:
 *
 * - a JupyterLab notification with actions (Open; Allow / Deny for a permission request);
 * - a count badge on the side panel's tab, and the count in the page title ("(2) …");
 * - a marker on the tab showing the session (its own tab, or the notebook holding its widget);
 * - opt-in (asked once), a browser notification while the page is in the background.
 *
 * Everything here runs straight from the sessions stream's messages — no animation frames or
 * timers, which a background tab throttles — so a background tab hears of it at once.
 */
import { Notification } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Title, Widget } from '@lumino/widgets';

import { GlueAPI, isNotFound } from '../client';
import { SessionsChange, SessionsModel } from '../model';
import { IPermissionOption, ISession, NeedsYou } from '../types';

export interface IAttentionOptions {
  api: GlueAPI;
  model: SessionsModel;
  /** The side panel's title: its tab gets the count badge. */
  panelTitle: Title<Widget>;
  open: (id: string) => void;
  /** Main-area widgets, to mark those that show a session needing you (notebooks with widgets). */
  mainWidgets: () => Iterable<Widget>;
  /** The user settings (`browserNotifications`), once loaded. */
  settings: () => ISettingRegistry.ISettings | null;
}

interface IPending {
  requestId: string;
  title: string;
  options: IPermissionOption[];
}

/** Classes of a tab (or notebook tab) showing a session that needs you. */
export const NEEDS_YOU_CLASS = 'jp-mod-needsYou';
const HOST_CLASS = 'jp-GlueHost-needsYou';

export class AttentionSignals {
  /** Sessions needing the user now, by id, with the reason last signalled. */
  private readonly reasons = new Map<string, { reason: NeedsYou; key: string }>();
  private readonly toasts = new Map<string, string>();
  private readonly browser = new Map<string, globalThis.Notification>();
  private readonly title = new TitleBadge();
  private asked = false;
  /** The user's answer to "Notify me?" until the settings registry has it (a save, then a re-fetch). */
  private answer: 'on' | 'off' | null = null;
  private firstSnapshot = true;

  constructor(private readonly opts: IAttentionOptions) {
    opts.model.changed.connect(change => this.onChange(change));
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') {
        this.browser.forEach(n => n.close());
        this.browser.clear();
      }
    });
  }

  /** How many sessions need the user. */
  get count(): number {
    return this.reasons.size;
  }

  /** The ids of sessions needing the user, most urgent first (permission, failed, finished). */
  get ids(): string[] {
    const order: Record<NeedsYou, number> = { permission: 0, failed: 1, turn_done: 2 };
    return Array.from(this.reasons.entries())
      .sort((a, b) => order[a[1].reason] - order[b[1].reason])
      .map(([id]) => id);
  }

  private onChange(change: SessionsChange): void {
    if (change.type === 'forgotten') {
      this.settle(change.id);
    } else if (change.type === 'session') {
      this.consider(change.session, true);
    } else {
      const sessions = this.opts.model.sessions;
      const ids = new Set(sessions.map(s => s.id));
      for (const id of Array.from(this.reasons.keys())) {
        if (!ids.has(id)) {
          this.settle(id);
        }
      }
      // After a page load, one summary instead of a toast per session.
      const quiet = this.firstSnapshot;
      this.firstSnapshot = false;
      sessions.forEach(s => this.consider(s, !quiet));
      if (quiet && this.count) {
        this.summary();
      }
    }
    this.updateBadges();
  }

  /** Signal a session that newly needs the user; settle one that no longer does. */
  private consider(s: ISession, signal: boolean): void {
    const reason = s.needs_you ?? null;
    if (!reason) {
      this.settle(s.id);
      return;
    }
    // What makes it news: a new reason, one more request waiting, a later turn finished.
    const key = `${reason}:${reason === 'permission' ? s.pending_permissions : s.attention_seq ?? 0}`;
    const known = this.reasons.get(s.id);
    this.reasons.set(s.id, { reason, key });
    if (!signal || (known && known.key === key) || isShown(s.id)) {
      return;
    }
    this.notify(s, reason);
  }

  private settle(id: string): void {
    this.reasons.delete(id);
    const toast = this.toasts.get(id);
    if (toast) {
      Notification.dismiss(toast);
      this.toasts.delete(id);
    }
    this.browser.get(id)?.close();
    this.browser.delete(id);
  }

  private notify(s: ISession, reason: NeedsYou): void {
    const name = `“${s.title || 'Untitled session'}”`;
    const previous = this.toasts.get(s.id);
    if (previous) {
      Notification.dismiss(previous);
      this.toasts.delete(s.id);
    }
    let text: string;
    if (reason === 'permission') {
      text = `${name} asks for your permission.`;
      // The toast waits for the request's options (one short read), to offer Allow / Deny.
      void this.permissionToast(s);
    } else if (reason === 'failed') {
      text = `${name} failed${s.error ? `: ${s.error}` : '.'}`;
      this.toasts.set(s.id, Notification.error(text, { autoClose: false, actions: [this.openAction(s)] }));
    } else {
      text = `${name} finished its turn.`;
      this.toasts.set(s.id, Notification.info(text, { autoClose: 8000, actions: [this.openAction(s)] }));
    }
    this.browserNotify(s, text);
    this.askOnce();
  }

  private openAction(s: ISession): Notification.IAction {
    return { label: 'Open', caption: 'Open the session', displayType: 'link', callback: () => this.opts.open(s.id) };
  }

  /** A warning toast for a permission request, with its own Allow / Deny and Open. */
  private async permissionToast(s: ISession): Promise<void> {
    const pending = await this.pendingRequest(s).catch(err => {
      if (!isNotFound(err)) {
        console.warn('glue_jupyter: could not read the permission request', err); // (404: forgotten meanwhile)
      }
      return null;
    });
    if (this.reasons.get(s.id)?.reason !== 'permission' || this.toasts.has(s.id)) {
      return; // answered meanwhile, or signalled already
    }
    const name = `“${s.title || 'Untitled session'}”`;
    const actions: Notification.IAction[] = [];
    if (pending) {
      const pick = (prefix: string) =>
        pending.options.find(o => o.kind === `${prefix}_once`) ?? pending.options.find(o => o.kind.startsWith(prefix));
      const answer = (option: IPermissionOption) => async () => {
        try {
          this.opts.model.set(await this.opts.api.answerPermission(s.id, pending.requestId, option.option_id));
        } catch (err) {
          Notification.error((err as Error).message, { autoClose: 8000 });
        }
      };
      const allow = pick('allow');
      const deny = pick('reject');
      if (allow) {
        actions.push({ label: allow.name, caption: `Answer “${allow.name}”`, displayType: 'accent', callback: answer(allow) });
      }
      if (deny) {
        actions.push({ label: deny.name, caption: `Answer “${deny.name}”`, displayType: 'warn', callback: answer(deny) });
      }
    }
    actions.push(this.openAction(s));
    const message = pending ? `${name} asks permission: ${pending.title}` : `${name} asks for your permission.`;
    this.toasts.set(s.id, Notification.warning(message, { autoClose: false, actions }));
  }

  /** The oldest request still waiting, from the end of the session's log. */
  private async pendingRequest(s: ISession): Promise<IPending | null> {
    const { events } = await this.opts.api.events(s.id, Math.max(0, s.last_seq - 500));
    const answered = new Set(events.filter(e => e.kind === 'permission_answer').map(e => e.data?.request_id));
    const request = events.find(e => e.kind === 'permission_request' && !answered.has(e.data?.request_id));
    if (!request) {
      return null;
    }
    return {
      requestId: String(request.data.request_id),
      title: String(request.data.tool_call?.title || 'a tool call'),
      options: Array.isArray(request.data.options) ? request.data.options : []
    };
  }

  private summary(): void {
    const n = this.count;
    Notification.info(`${n} agent session${n === 1 ? ' needs' : 's need'} you.`, {
      autoClose: 8000,
      actions: [{ label: 'Show', displayType: 'link', callback: () => this.opts.open(this.ids[0]) }]
    });
  }

  // -- badges and markers -----------------------------------------------------------------------

  /**
   * Mark again the tabs of documents showing a session that needs you: a notebook widget may
   * render after its session asked (call when views appear or the main area changes).
   */
  refreshMarks(): void {
    this.updateBadges();
  }

  private updateBadges(): void {
    const n = this.count;
    const title = this.opts.panelTitle;
    title.dataset = n ? { ...title.dataset, 'glue-count': String(n) } : withoutCount(title.dataset);
    title.caption = n ? `Agent sessions — ${n} need${n === 1 ? 's' : ''} you` : 'Agent sessions';
    this.title.set(n);
    // Notebooks (and other documents) showing a session widget that needs you.
    for (const w of this.opts.mainWidgets()) {
      if (w.hasClass('jp-GlueSessionWidget')) {
        continue; // session tabs carry their own state classes
      }
      const shown = Array.from(w.node.querySelectorAll<HTMLElement>('.jp-GlueSessionView[data-session-id]'));
      const needs = shown.some(el => this.reasons.has(el.dataset.sessionId ?? ''));
      const classes = w.title.className.split(/\s+/).filter(c => c && c !== HOST_CLASS);
      const next = (needs ? [...classes, HOST_CLASS] : classes).join(' ');
      if (next !== w.title.className) {
        w.title.className = next;
      }
    }
  }

  // -- the browser's own notifications (opt-in) ---------------------------------------------------

  private mode(): string {
    return this.answer ?? (this.opts.settings()?.get('browserNotifications').composite as string) ?? 'ask';
  }

  private browserNotify(s: ISession, text: string): void {
    const N = window.Notification;
    if (document.visibilityState !== 'hidden' || this.mode() !== 'on' || !N || N.permission !== 'granted') {
      return;
    }
    this.browser.get(s.id)?.close();
    const n = new N('An agent session needs you', {
      body: text,
      tag: `glue-${s.id}`,
      requireInteraction: s.needs_you === 'permission'
    });
    n.onclick = () => {
      window.focus();
      this.opts.open(s.id);
      n.close();
    };
    this.browser.set(s.id, n);
  }

  /**
   * The first time a browser notification would have helped — a session needed the user while
   * the page was in the background — ask whether to use them (the toast waits for their return).
   */
  private askOnce(): void {
    const N = window.Notification;
    const settings = this.opts.settings();
    if (this.asked || !settings || document.visibilityState !== 'hidden' || this.mode() !== 'ask' || !N ||
        N.permission === 'denied') {
      return;
    }
    this.asked = true;
    // The answer counts from the click: the registry only has it after its save and re-fetch,
    // and a session may need the user in between.
    const save = (value: 'on' | 'off') => {
      this.answer = value;
      settings
        .set('browserNotifications', value)
        .catch(err => console.warn('glue_jupyter: could not save the setting', err))
        .finally(() => (this.answer = null));
    };
    Notification.info('An agent needed you while JupyterLab was in the background. Get a browser notification next time?', {
      autoClose: false,
      actions: [
        {
          label: 'Notify me',
          displayType: 'accent',
          callback: () => {
            void N.requestPermission().then(permission => save(permission === 'granted' ? 'on' : 'off'));
          }
        },
        { label: 'No thanks', callback: () => save('off') }
      ]
    });
  }
}

/** Whether a view of the session is on screen in a visible page (then no signal is needed). */
export function isShown(id: string): boolean {
  if (document.visibilityState !== 'visible') {
    return false;
  }
  for (const el of Array.from(document.querySelectorAll<HTMLElement>(`.jp-GlueSessionView[data-session-id="${id}"]`))) {
    const r = el.getBoundingClientRect();
    const visible = typeof el.checkVisibility === 'function' ? el.checkVisibility() : r.width > 0;
    if (visible && r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth) {
      return true;
    }
  }
  return false;
}

function withoutCount(dataset: Title.Dataset): Title.Dataset {
  const { 'glue-count': _, ...rest } = dataset as Record<string, string>;
  return rest;
}

/** "(2) " in front of the page title while sessions need you (JupyterLab rewrites the title). */
class TitleBadge {
  private prefix = '';
  private observer: MutationObserver | null = null;

  set(n: number): void {
    const prefix = n ? `(${n}) ` : '';
    if (prefix === this.prefix) {
      return;
    }
    const bare = this.bare();
    this.prefix = prefix;
    this.apply(bare);
    if (!this.observer && typeof MutationObserver === 'function') {
      const el = document.querySelector('title');
      if (el) {
        this.observer = new MutationObserver(() => {
          if (this.prefix && !document.title.startsWith(this.prefix)) {
            this.apply(document.title);
          }
        });
        this.observer.observe(el, { childList: true, characterData: true, subtree: true });
      }
    }
  }

  private bare(): string {
    const t = document.title;
    return this.prefix && t.startsWith(this.prefix) ? t.slice(this.prefix.length) : t;
  }

  private apply(bare: string): void {
    const next = this.prefix + bare.replace(/^\(\d+\) /, '');
    if (document.title !== next) {
      document.title = next;
    }
  }
}
