/**
 * The agent's own session state in a session view's header: a menu button showing the
 * current mode and model ("Plan · Demo Fast ▾") that opens every option the agent offers,
 * and a compact usage gauge (context used of its size, cost when known). Framework-free:
 * the JupyterLab session panel and the notebook widget share it through SessionView.
 *
 * A change goes to `POST api/glue/sessions/{id}/config`; the server records it in the
 * transcript. A mode the permission policy refuses is shown, disabled, with the reason. On a
 * stopped or failed session a change is kept for the resume.
 */
import type { GlueAPI } from '../client';
import { contextShare, formatCost, formatTokens, setupText, usageDetails } from '../agent-options';
import type { IAgentChoice, IAgentOption, ISession, IUsage, SessionState } from '../types';
import { h } from './dom';

export interface IAgentSessionControlsOptions {
  api: GlueAPI;
  sessionId: string;
  /** A newer session JSON, answered by a change. */
  onSession: (session: ISession) => void;
  onError: (message: string) => void;
}

/** States in which the agent cannot take a change now, and why. */
const WAIT: Partial<Record<SessionState, string>> = {
  starting: 'The agent is starting: choose once it is ready.',
  interrupting: 'Wait for the interrupt to finish.',
  paused: 'Resume the session to change its options.',
  stopping: 'The session is stopping.'
};

const SLIDERS_SVG = `<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path fill="currentColor"
  d="M2 4h7.2a2 2 0 0 1 3.6 0H14v1.5h-1.2a2 2 0 0 1-3.6 0H2zm9 1.5a.75.75 0 1 0 0-1.5.75.75 0 0 0 0 1.5zM2 10.5h1.2a2 2 0
  0 1 3.6 0H14V12H6.8a2 2 0 0 1-3.6 0H2zm3 1.5a.75.75 0 1 0 0-1.5.75.75 0 0 0 0 1.5z"/></svg>`;

export class AgentSessionControls {
  readonly node: HTMLElement;
  private readonly button: HTMLButtonElement;
  private readonly label: HTMLElement;
  private readonly gauge: UsageGauge;
  private session: ISession | null = null;
  private menu: OptionsMenu | null = null;
  private busy = false;

  constructor(private readonly opts: IAgentSessionControlsOptions) {
    this.label = h('span', { class: 'jp-GlueAgentOptions-label' });
    this.button = h('button', {
      type: 'button',
      class: 'jp-GlueAgentOptions-button',
      'aria-haspopup': 'menu',
      'aria-expanded': 'false'
    });
    const iconEl = h('span', { class: 'jp-GlueAgentOptions-icon' });
    iconEl.innerHTML = SLIDERS_SVG;
    this.button.append(iconEl, this.label, h('span', { class: 'jp-GlueAgentOptions-caret', 'aria-hidden': 'true' }));
    this.button.addEventListener('click', () => (this.menu ? this.closeMenu() : this.openMenu()));
    this.button.addEventListener('keydown', ev => {
      if (ev.key === 'ArrowDown' && !this.menu) {
        ev.preventDefault();
        this.openMenu();
      }
    });
    this.gauge = new UsageGauge();
    this.node = h('div', { class: 'jp-GlueAgentSession' }, this.button, this.gauge.node);
    this.update(null);
  }

  /** Show a (newer) session's options and usage. */
  update(session: ISession | null): void {
    this.session = session;
    const options = session?.config ?? [];
    this.button.style.display = options.length ? '' : 'none';
    const setup = session ? setupText(session) : '';
    this.label.textContent = setup || 'Options';
    const wait = session ? WAIT[session.state] : undefined;
    this.button.disabled = this.busy || !!wait;
    this.button.title = wait ?? `The agent's ${describeKinds(options)}: choose`;
    this.button.setAttribute('aria-label', `Agent options: ${setup || 'none chosen'}`);
    this.gauge.update(session?.usage ?? null);
    if (this.menu && session) {
      this.menu.render(session);
    }
  }

  dispose(): void {
    this.closeMenu();
  }

  private openMenu(): void {
    if (!this.session || this.menu) {
      return;
    }
    this.menu = new OptionsMenu(this.button, {
      choose: (option, value) => void this.choose(option, value),
      close: () => this.closeMenu()
    });
    this.menu.render(this.session);
    this.button.setAttribute('aria-expanded', 'true');
  }

  private closeMenu(): void {
    this.menu?.dispose();
    this.menu = null;
    this.button.setAttribute('aria-expanded', 'false');
  }

  private async choose(option: IAgentOption, value: string | boolean): Promise<void> {
    this.closeMenu();
    this.button.focus();
    if (option.value === value || this.busy) {
      return;
    }
    this.busy = true;
    this.node.setAttribute('aria-busy', 'true');
    this.update(this.session);
    try {
      this.opts.onSession(await this.opts.api.configure(this.opts.sessionId, option.id, value));
    } catch (err) {
      this.opts.onError((err as Error).message);
    } finally {
      this.busy = false;
      this.node.removeAttribute('aria-busy');
      this.update(this.session);
    }
  }
}

function describeKinds(options: IAgentOption[]): string {
  const kinds = options.map(o => (o.category === 'mode' || o.category === 'model' ? o.category : 'options'));
  return Array.from(new Set(kinds)).join(', ').replace(/, ([^,]*)$/, ' and $1');
}

// ---------------------------------------------------------------------------
// The menu: every option, its choices as radio items (switches as checkboxes).
// ---------------------------------------------------------------------------

interface IMenuActions {
  choose: (option: IAgentOption, value: string | boolean) => void;
  close: () => void;
}

class OptionsMenu {
  private readonly node: HTMLElement;
  private readonly onOutside = (ev: Event) => {
    const target = ev.target as Node;
    if (!this.node.contains(target) && !this.anchor.contains(target)) {
      this.actions.close();
    }
  };
  private readonly onViewport = () => this.place();

  constructor(
    private readonly anchor: HTMLElement,
    private readonly actions: IMenuActions
  ) {
    this.node = h('div', { class: 'jp-GlueAgentMenu', role: 'menu', 'aria-label': 'Agent options' });
    this.node.addEventListener('keydown', ev => this.onKey(ev));
    // In the page's body, so no header or cell clips it; the theme's variables still apply.
    document.body.appendChild(this.node);
    document.addEventListener('pointerdown', this.onOutside, true);
    window.addEventListener('resize', this.onViewport);
    window.addEventListener('scroll', this.onViewport, true);
  }

  render(session: ISession): void {
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.key;
    this.node.textContent = '';
    const later = session.state === 'stopped' || session.state === 'failed';
    const options = session.config ?? [];
    for (const option of options.filter(o => o.type === 'select')) {
      this.node.appendChild(
        h('div', { class: 'jp-GlueAgentMenu-heading', role: 'presentation', text: option.name, title: option.description ?? '' })
      );
      let group: string | undefined;
      for (const choice of option.choices) {
        if (choice.group && choice.group !== group) {
          group = choice.group;
          this.node.appendChild(h('div', { class: 'jp-GlueAgentMenu-group', role: 'presentation', text: group }));
        }
        this.node.appendChild(this.item(option, choice.value, choice, choice.value === option.value, 'menuitemradio'));
      }
    }
    const switches = options.filter(o => o.type === 'boolean');
    if (switches.length) {
      this.node.appendChild(h('div', { class: 'jp-GlueAgentMenu-heading', role: 'presentation', text: 'Options' }));
    }
    for (const option of switches) {
      const choice = { value: String(!option.value), name: option.name, description: option.description };
      this.node.appendChild(this.item(option, !option.value, choice, option.value === true, 'menuitemcheckbox'));
    }
    if (later) {
      this.node.appendChild(
        h('div', { class: 'jp-GlueAgentMenu-note', role: 'presentation', text: 'The session is not running: a change applies when it resumes.' })
      );
    }
    this.place();
    const again = focused ? this.node.querySelector<HTMLElement>(`[data-key="${CSS.escape(focused)}"]`) : null;
    (again ?? this.node.querySelector<HTMLElement>('[aria-checked="true"]:not([aria-disabled="true"])') ?? this.items()[0])?.focus();
  }

  private item(
    option: IAgentOption,
    value: string | boolean,
    choice: IAgentChoice,
    checked: boolean,
    role: 'menuitemradio' | 'menuitemcheckbox'
  ): HTMLElement {
    const refused = choice.allowed === false;
    const el = h(
      'div',
      {
        class: `jp-GlueAgentMenu-item${refused ? ' jp-mod-refused' : ''}`,
        role,
        tabindex: -1,
        'aria-checked': String(checked),
        'aria-disabled': refused ? 'true' : null,
        'data-key': role === 'menuitemcheckbox' ? option.id : `${option.id}=${String(value)}`,
        'data-option': option.id,
        'data-value': String(value),
        title: refused
          ? 'Refused: in this mode the agent writes files or runs commands without asking, which the server\'s permission policy forbids.'
          : choice.description ?? ''
      },
      h('span', { class: 'jp-GlueAgentMenu-check', 'aria-hidden': 'true' }),
      h(
        'span',
        { class: 'jp-GlueAgentMenu-text' },
        h('span', { class: 'jp-GlueAgentMenu-name', text: role === 'menuitemcheckbox' ? option.name : choice.name }),
        choice.description && role === 'menuitemradio'
          ? h('span', { class: 'jp-GlueAgentMenu-description', text: choice.description })
          : null,
        refused ? h('span', { class: 'jp-GlueAgentMenu-refused', text: 'needs the permission policy "allow"' }) : null
      )
    );
    if (!refused) {
      el.addEventListener('click', () => this.actions.choose(option, value));
    }
    return el;
  }

  private items(): HTMLElement[] {
    return Array.from(this.node.querySelectorAll<HTMLElement>('[role^="menuitem"]:not([aria-disabled="true"])'));
  }

  private onKey(ev: KeyboardEvent): void {
    const items = this.items();
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const next = ev.key === 'ArrowDown' ? (at + 1) % items.length : (at - 1 + items.length) % items.length;
      items[next]?.focus();
    } else if (ev.key === 'Home' || ev.key === 'End') {
      ev.preventDefault();
      items[ev.key === 'Home' ? 0 : items.length - 1]?.focus();
    } else if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      (document.activeElement as HTMLElement | null)?.click();
    } else if (ev.key === 'Escape' || ev.key === 'Tab') {
      ev.preventDefault();
      ev.stopPropagation();
      this.actions.close();
      this.anchor.focus();
    }
  }

  /** Below the button, kept inside the window (above it when there is no room below). */
  private place(): void {
    const box = this.anchor.getBoundingClientRect();
    const width = Math.min(320, window.innerWidth - 16);
    this.node.style.width = `${width}px`;
    this.node.style.maxHeight = '';
    const height = this.node.offsetHeight;
    const below = window.innerHeight - box.bottom - 8;
    const above = box.top - 8;
    let top = box.bottom + 4;
    if (height > below && above > below) {
      top = Math.max(8, box.top - 4 - Math.min(height, above));
      this.node.style.maxHeight = `${above}px`;
    } else {
      this.node.style.maxHeight = `${Math.max(120, below)}px`;
    }
    const left = Math.max(8, Math.min(box.left, window.innerWidth - width - 8));
    this.node.style.top = `${top}px`;
    this.node.style.left = `${left}px`;
  }

  dispose(): void {
    document.removeEventListener('pointerdown', this.onOutside, true);
    window.removeEventListener('resize', this.onViewport);
    window.removeEventListener('scroll', this.onViewport, true);
    this.node.remove();
  }
}

// ---------------------------------------------------------------------------
// The gauge: a thin bar of the context window and "31k / 200k · $0.42".
// ---------------------------------------------------------------------------

export class UsageGauge {
  readonly node: HTMLElement;
  private readonly fill: HTMLElement;
  private readonly text: HTMLElement;

  constructor() {
    this.fill = h('span', { class: 'jp-GlueUsage-fill' });
    this.text = h('span', { class: 'jp-GlueUsage-text' });
    this.node = h(
      'span',
      { class: 'jp-GlueUsage', role: 'status' },
      h('span', { class: 'jp-GlueUsage-bar', 'aria-hidden': 'true' }, this.fill),
      this.text
    );
    this.update(null);
  }

  update(usage: IUsage | null): void {
    const share = contextShare(usage);
    const cost = usage ? formatCost(usage.cost, usage.currency) : '';
    const tokens = usage && share === null && usage.total_tokens ? `${formatTokens(usage.total_tokens)} tokens` : '';
    const context = usage && share !== null ? `${formatTokens(usage.context_used)} / ${formatTokens(usage.context_size)}` : '';
    const words = [context || tokens, cost].filter(Boolean).join(' · ');
    this.node.style.display = words ? '' : 'none';
    this.text.textContent = words;
    this.node.title = usage ? usageDetails(usage) : '';
    this.node.setAttribute('aria-label', usage ? usageDetails(usage).replace(/\n/g, '; ') : 'No usage reported');
    const bar = this.fill.parentElement as HTMLElement;
    bar.style.display = share === null ? 'none' : '';
    this.fill.style.width = `${Math.round((share ?? 0) * 100)}%`;
    this.node.dataset.level = share === null ? 'none' : share >= 0.9 ? 'high' : share >= 0.7 ? 'warn' : 'ok';
  }
}
