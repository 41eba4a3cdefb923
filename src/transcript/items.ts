/**
 * How each kind of transcript item looks: one `fill(el, item)` that (re)draws an item's element.
 * TranscriptView (render.ts) decides which items are in the DOM and when they are redrawn.
 */
import {
  IMessageItem,
  IPermissionItem,
  IPlanItem,
  IThoughtItem,
  IToolItem,
  ITurnEndItem,
  TranscriptItem,
  itemText
} from '../model';
import type { IPermissionOption } from '../types';
import { IBlockContext, enhanceMarkdown, fileLink } from './blocks';
import { shownPath } from './paths';
import { clockTime, copyButton, formatDuration, formatTime, h } from './dom';
import { renderContextChips } from './context-chips';
import { renderMarkdown } from './markdown';
import { contentViews, inputView, stringify, whatWillHappen } from './tools';
import { IWorkspaceActions, fillWorkspaceItem, workspaceSearchText } from '../workspace/transcript-items';

export interface IItemRendererOptions {
  /** Host, session and folder the items belong to (read at each draw: the folder may arrive late). */
  context: () => IBlockContext;
  /** Answer a permission request; the buttons go away when the answer event arrives. */
  onPermission?: (requestId: string, optionId: string) => Promise<void>;
  /** Redraw one item now (after a local state change such as a click on a permission button). */
  redraw: (item: TranscriptItem) => void;
  /** What a turn's changes, a rewind or a fork offer to do (src/workspace/controller.ts). */
  workspaceActions?: IWorkspaceActions;
}

export const STOP_REASONS: Record<string, string> = {
  end_turn: 'finished',
  cancelled: 'interrupted',
  failed: 'failed',
  stopped: 'stopped',
  max_tokens: 'hit the token limit',
  max_turn_requests: 'hit the request limit',
  refusal: 'refused',
  server_stopped: 'ended when the server stopped'
};

const TOOL_STATUS: Record<string, string> = {
  pending: 'pending',
  in_progress: 'running',
  completed: 'done',
  failed: 'failed',
  cancelled: 'cancelled'
};

/** What each kind of permission option means, on hover. */
const OPTION_HINTS: Record<string, string> = {
  allow_once: 'Allow this one request',
  allow_always: 'Allow it, and do not ask again for requests like it in this session',
  reject_once: 'Refuse this one request',
  reject_always: 'Refuse it, and refuse requests like it from now on'
};

/** The text a transcript search looks in, per item (what the user can read in it). */
export function searchText(item: TranscriptItem): string {
  switch (item.type) {
    case 'user':
      return item.text;
    case 'message':
    case 'thought':
      return itemText(item);
    case 'tool':
      return [item.title, ...item.content.map(c => String((c as any).text ?? (c as any).content?.text ?? ''))].join('\n');
    case 'plan':
      return item.entries.map(e => e.content).join('\n');
    case 'permission':
      return [item.toolTitle, ...item.options.map(o => o.name)].join('\n');
    case 'turn_end':
      return [`Turn ${item.turn ?? ''} ${STOP_REASONS[item.stopReason] ?? item.stopReason}`, ...item.files, ...item.commands].join(
        '\n'
      );
    case 'line':
      return [item.text, ...(item.detail ?? [])].join('\n');
    case 'workspace':
      return workspaceSearchText(item);
  }
}

export class ItemRenderer {
  private readonly permissionBusy = new Map<string, string>();
  private readonly permissionErrors = new Map<string, string>();

  constructor(private readonly opts: IItemRendererOptions) {}

  fill(el: HTMLElement, item: TranscriptItem): void {
    switch (item.type) {
      case 'user': {
        const head = this.label('You', item.ts, () => item.text, true);
        if (item.queued || item.steered) {
          head.firstElementChild!.after(
            h('span', {
              class: 'jp-GlueItem-tag',
              text: item.steered ? 'joined the running turn' : 'sent from the queue',
              title: item.steered
                ? 'Sent while the agent was working; it took the message into the turn in progress (native steering)'
                : 'Sent while the agent was working; it waited for the turn to end'
            })
          );
        }
        el.replaceChildren(head, h('div', { class: 'jp-GlueItem-userText', text: item.text }));
        el.append(renderContextChips(item.context) ?? '');
        break;
      }
      case 'message':
        this.fillMessage(el, item);
        break;
      case 'thought':
        this.fillThought(el, item);
        break;
      case 'tool':
        this.fillTool(el, item);
        break;
      case 'plan':
        this.fillPlan(el, item);
        break;
      case 'permission':
        this.fillPermission(el, item);
        break;
      case 'turn_end':
        this.fillTurnEnd(el, item);
        break;
      case 'workspace':
        fillWorkspaceItem(el, item, this.opts.workspaceActions);
        break;
      case 'line': {
        el.dataset.level = item.level;
        el.dataset.variant = item.variant;
        const text = h('span', { class: 'jp-GlueLine-text', title: item.hover ? `${item.hover}\n${formatTime(item.ts)}` : formatTime(item.ts) }, item.text);
        el.replaceChildren(text);
        if (item.detail && item.detail.length) {
          el.appendChild(h('pre', { class: 'jp-GlueLine-detail', text: item.detail.join('\n') }));
        }
        break;
      }
    }
  }

  /** "You · 14:05" with a copy button; the full date on hover. */
  private label(who: string, ts: number, copy: () => string, showTime: boolean): HTMLElement {
    return h(
      'div',
      { class: 'jp-GlueItem-head' },
      h('span', { class: 'jp-GlueItem-label', text: who }),
      showTime ? h('time', { class: 'jp-GlueItem-time', datetime: new Date(ts * 1000).toISOString(), title: formatTime(ts), text: clockTime(ts) }) : null,
      h('span', { class: 'jp-GlueItem-tools' }, copyButton(copy, `Copy ${who === 'You' ? 'your message' : 'the reply'}`))
    );
  }

  private fillMessage(el: HTMLElement, item: IMessageItem): void {
    let body = el.querySelector<HTMLElement>(':scope > .jp-GlueMarkdown');
    if (!body) {
      body = h('div', { class: 'jp-GlueMarkdown jp-RenderedHTMLCommon' });
      el.replaceChildren(this.label('Agent', item.ts, () => itemText(item), false), body);
      el.querySelector('.jp-GlueItem-label')!.setAttribute('title', formatTime(item.ts));
    }
    renderMarkdown(body, itemText(item));
    enhanceMarkdown(body, this.opts.context());
  }

  private fillThought(el: HTMLElement, item: IThoughtItem): void {
    let details = el.querySelector('details');
    if (!details) {
      details = h(
        'details',
        { class: 'jp-GlueThought' },
        h('summary', {}, h('span', { class: 'jp-GlueThought-label' }, 'Thought'), h('span', { class: 'jp-GlueThought-preview' })),
        h('div', { class: 'jp-GlueThought-text' })
      );
      el.replaceChildren(details);
    }
    const text = itemText(item);
    const preview = text.trim().split('\n')[0];
    details.querySelector('.jp-GlueThought-preview')!.textContent =
      preview.length > 120 ? preview.slice(0, 119) + '…' : preview;
    details.querySelector('.jp-GlueThought-text')!.textContent = text;
  }

  private fillTool(el: HTMLElement, item: IToolItem): void {
    const ctx = this.opts.context();
    const prev = el.querySelector('details');
    const hasDiff = item.content.some(c => c.type === 'diff');
    // Open when it shows a change, until the user folds or unfolds it themselves.
    const open = prev && el.dataset.userToggled ? prev.open : hasDiff || !!prev?.open;
    el.dataset.status = item.status;
    el.dataset.toolCallId = item.toolCallId;
    const status = TOOL_STATUS[item.status] ?? item.status;
    const summary = h(
      'summary',
      {},
      h('span', { class: 'jp-GlueTool-status', 'data-status': item.status, title: status }),
      h('span', { class: 'jp-GlueTool-kind', text: item.kind }),
      h('span', { class: 'jp-GlueTool-title', text: item.title, title: item.title }),
      h('span', { class: 'jp-GlueTool-statusText', text: status })
    );
    const body = h('div', { class: 'jp-GlueTool-body' });
    // A location the card's diff already names adds nothing, unless it points at a line.
    const diffPaths = new Set(item.content.flatMap(c => (c.type === 'diff' ? [c.path] : [])));
    const locations = item.locations.filter(l => l.line || !diffPaths.has(l.path));
    if (locations.length) {
      const locs = h('div', { class: 'jp-GlueTool-locations' });
      for (const loc of locations) {
        const shown = shownPath(loc.path, ctx.cwd);
        const label = loc.line ? `${shown}:${loc.line}` : shown;
        locs.appendChild(fileLink({ path: loc.path, line: loc.line ?? undefined }, label, ctx));
      }
      body.appendChild(locs);
    }
    const views = contentViews(item.content, ctx);
    views.forEach(v => body.appendChild(v));
    if (!views.length && item.rawOutput !== undefined && item.rawOutput !== null) {
      body.appendChild(h('pre', { class: 'jp-GlueTool-output', text: stringify(item.rawOutput) }));
    }
    const input = inputView(item.rawInput);
    if (input) {
      body.appendChild(h('details', { class: 'jp-GlueTool-input' }, h('summary', {}, 'Input'), input));
    }
    if (!body.childNodes.length) {
      body.appendChild(h('div', { class: 'jp-GlueTool-nothing', text: 'No output yet.' }));
    }
    const details = h('details', { class: 'jp-GlueTool' }, summary, body);
    details.open = open;
    summary.addEventListener('click', () => (el.dataset.userToggled = '1'));
    el.replaceChildren(details);
  }

  private fillPlan(el: HTMLElement, item: IPlanItem): void {
    const ul = h('ul', { class: 'jp-GluePlan' });
    for (const e of item.entries) {
      // A plan cut short by an interrupt (or stop) has no step still running: it stopped.
      const raw = String(e.status || 'pending');
      const status = item.cutShort && raw !== 'completed' ? 'stopped' : raw;
      ul.appendChild(
        h(
          'li',
          { class: `jp-GluePlan-entry jp-mod-${status}`, 'data-status': status },
          h('span', { class: 'jp-GluePlan-box', 'aria-hidden': 'true' }),
          h('span', { class: 'jp-GluePlan-text', text: e.content })
        )
      );
    }
    el.dataset.cutShort = item.cutShort ?? '';
    el.replaceChildren(h('div', { class: 'jp-GlueItem-label' }, 'Plan'), ul);
    if (item.cutShort) {
      const why = STOP_REASONS[item.cutShort] ?? item.cutShort;
      el.appendChild(h('div', { class: 'jp-GluePlan-note', text: `Not finished: the turn was ${why}.` }));
    }
  }

  private fillTurnEnd(el: HTMLElement, item: ITurnEndItem): void {
    const ctx = this.opts.context();
    el.dataset.stopReason = item.stopReason;
    const reason = STOP_REASONS[item.stopReason] ?? item.stopReason;
    const rule = h('div', { class: 'jp-GlueTurnEnd-rule' });
    const span = h('span', {}, `Turn ${item.turn ?? ''} ${reason}`.replace(/\s+/g, ' '));
    if (item.duration !== null) {
      span.appendChild(document.createTextNode(` · ${formatDuration(item.duration)}`));
    }
    span.appendChild(document.createTextNode(' · '));
    span.appendChild(h('time', { class: 'jp-GlueItem-time', title: formatTime(item.ts), text: clockTime(item.ts) }));
    rule.appendChild(span);
    el.replaceChildren(rule);
    if (item.files.length) {
      const files = h('div', { class: 'jp-GlueTurnEnd-files' }, 'Files touched: ');
      item.files.forEach(f => files.appendChild(fileLink({ path: f }, f, ctx)));
      el.appendChild(files);
    }
    if (item.commands.length) {
      const commands = h('div', { class: 'jp-GlueTurnEnd-files' }, 'Commands run: ');
      item.commands.forEach(c => commands.appendChild(h('code', { class: 'jp-GlueFile', text: c })));
      el.appendChild(commands);
    }
  }

  private fillPermission(el: HTMLElement, item: IPermissionItem): void {
    const ctx = this.opts.context();
    el.dataset.answered = item.answer ? 'true' : 'false';
    el.dataset.requestId = item.requestId;
    const title = h(
      'div',
      { class: 'jp-GluePermission-title' },
      h('span', { class: 'jp-GluePermission-icon', 'aria-hidden': 'true' }),
      item.answer ? 'The agent asked: ' : 'The agent asks permission: ',
      h('strong', { text: item.toolTitle })
    );
    const detail = whatWillHappen(item.tool, ctx);
    if (item.answer) {
      this.permissionBusy.delete(item.requestId);
      this.permissionErrors.delete(item.requestId);
      const text =
        item.answer.outcome === 'cancelled'
          ? 'Withdrawn — no answer was needed any more.'
          : `Answered: ${item.answer.optionName ?? item.answer.optionId ?? 'selected'}`;
      el.replaceChildren(title, h('div', { class: 'jp-GluePermission-answer', text }));
      if (detail.length) {
        el.appendChild(h('details', { class: 'jp-GluePermission-detail' }, h('summary', {}, 'What it asked to do'), ...detail));
      }
      return;
    }
    el.replaceChildren(title, h('div', { class: 'jp-GluePermission-what' }, ...detail));
    const busy = this.permissionBusy.get(item.requestId);
    const row = h('div', { class: 'jp-GluePermission-options', role: 'group', 'aria-label': 'Answer the request' });
    for (const opt of item.options) {
      row.appendChild(this.optionButton(item, opt, busy));
    }
    el.appendChild(row);
    const err = this.permissionErrors.get(item.requestId);
    if (err) {
      el.appendChild(h('div', { class: 'jp-GlueError', role: 'alert', text: err }));
    }
  }

  private optionButton(item: IPermissionItem, opt: IPermissionOption, busy: string | undefined): HTMLButtonElement {
    const kind = String(opt.kind || '');
    const cls = kind === 'allow_once' ? 'jp-mod-accept' : kind.startsWith('allow') ? 'jp-mod-acceptAlways' : 'jp-mod-reject';
    const btn = h('button', {
      type: 'button',
      class: `jp-GlueButton ${cls}`,
      'data-option-id': opt.option_id,
      'data-kind': kind,
      title: OPTION_HINTS[kind] ?? opt.name,
      disabled: !!busy || !this.opts.onPermission
    });
    btn.textContent = busy === opt.option_id ? `${opt.name}…` : opt.name;
    btn.addEventListener('click', () => void this.answer(item, opt.option_id));
    return btn;
  }

  private async answer(item: IPermissionItem, optionId: string): Promise<void> {
    if (!this.opts.onPermission || this.permissionBusy.has(item.requestId)) {
      return;
    }
    this.permissionBusy.set(item.requestId, optionId);
    this.permissionErrors.delete(item.requestId);
    this.opts.redraw(item);
    try {
      await this.opts.onPermission(item.requestId, optionId);
    } catch (err) {
      this.permissionBusy.delete(item.requestId);
      this.permissionErrors.set(item.requestId, (err as Error).message ?? String(err));
      this.opts.redraw(item);
    }
  }
}
