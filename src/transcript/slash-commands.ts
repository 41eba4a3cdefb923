/**
 * The agent's slash commands (ACP available_commands_update) offered while typing `/` at the
 * start of a message: a list above the composer with each command's description and what to
 * type after it; ↑/↓ move, Enter or Tab takes one, Escape closes. Framework-free: the session
 * view (lab and notebook widget) and the panel's new-session form use it.
 */
import type { IAgentCommand } from '../types';
import { h } from './dom';

const MAX_SHOWN = 8;

export class SlashCommands {
  readonly node: HTMLElement;
  private shown: IAgentCommand[] = [];
  private active = 0;
  private readonly listeners: [EventTarget, string, EventListener, boolean][] = [];

  /**
   * `input`: the composer's text area; `anchor`: a positioned element the list is placed in
   * (above its top edge); `commands`: the agent's commands now (they may change any time).
   */
  constructor(
    private readonly input: HTMLTextAreaElement,
    anchor: HTMLElement,
    private readonly commands: () => IAgentCommand[]
  ) {
    const id = `jp-GlueSlash-${Math.random().toString(36).slice(2)}`;
    this.node = h('div', { class: 'jp-GlueSlash', role: 'listbox', id, 'aria-label': 'Agent commands' });
    this.node.style.display = 'none';
    anchor.appendChild(this.node);
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', id);
    this.listen(input, 'input', () => this.refresh());
    this.listen(input, 'click', () => this.refresh());
    this.listen(input, 'blur', () => this.close());
    // Capture, on the text area itself: runs before the composer's own Enter-sends handler.
    this.listen(input, 'keydown', ev => this.onKey(ev as KeyboardEvent), true);
    // Keep focus in the text area while a row is clicked.
    this.listen(this.node, 'mousedown', ev => ev.preventDefault());
  }

  get open(): boolean {
    return this.node.style.display !== 'none';
  }

  dispose(): void {
    for (const [target, type, fn, capture] of this.listeners) {
      target.removeEventListener(type, fn, capture);
    }
    this.node.remove();
  }

  /** The word being typed when it is a command at the start of the message ("/rev"), else null. */
  private typed(): string | null {
    const before = this.input.value.slice(0, this.input.selectionStart ?? 0);
    const match = /^\s*\/([^\s/]*)$/.exec(before);
    return match ? match[1] : null;
  }

  refresh(): void {
    const typed = this.typed();
    const all = this.commands();
    if (typed === null || !all.length) {
      this.close();
      return;
    }
    const want = typed.toLowerCase();
    const starts = all.filter(c => c.name.toLowerCase().startsWith(want));
    const contains = all.filter(c => !starts.includes(c) && c.name.toLowerCase().includes(want));
    const shown = [...starts, ...contains].slice(0, MAX_SHOWN);
    if (!shown.length || (shown.length === 1 && shown[0].name.toLowerCase() === want && this.isComplete())) {
      this.close();
      return;
    }
    const previous = this.shown[this.active]?.name;
    this.shown = shown;
    this.active = Math.max(0, shown.findIndex(c => c.name === previous));
    this.render();
  }

  /** Whether the command's name is followed by a space already (nothing left to complete). */
  private isComplete(): boolean {
    return /^\s*\/\S+\s/.test(this.input.value);
  }

  private render(): void {
    this.node.textContent = '';
    this.shown.forEach((command, index) => {
      const row = h(
        'div',
        {
          class: `jp-GlueSlash-item${index === this.active ? ' jp-mod-active' : ''}`,
          role: 'option',
          id: `${this.node.id}-${index}`,
          'aria-selected': String(index === this.active)
        },
        h('span', { class: 'jp-GlueSlash-name', text: `/${command.name}` }),
        command.hint ? h('span', { class: 'jp-GlueSlash-hint', text: command.hint }) : null,
        h('span', { class: 'jp-GlueSlash-description', text: command.description })
      );
      row.addEventListener('click', () => this.take(index));
      this.node.appendChild(row);
    });
    this.node.style.display = '';
    this.input.setAttribute('aria-expanded', 'true');
    this.input.setAttribute('aria-activedescendant', `${this.node.id}-${this.active}`);
    this.node.children[this.active]?.scrollIntoView({ block: 'nearest' });
  }

  close(): void {
    if (!this.open) {
      return;
    }
    this.node.style.display = 'none';
    this.shown = [];
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  /** Put `/name ` in place of what was typed, cursor after it. */
  private take(index: number): void {
    const command = this.shown[index];
    if (!command) {
      return;
    }
    const value = this.input.value;
    const end = this.input.selectionStart ?? 0;
    const rest = value.slice(end).replace(/^\S*/, '').replace(/^\s*/, '');
    const inserted = `/${command.name} `;
    this.input.value = inserted + rest;
    this.input.selectionStart = this.input.selectionEnd = inserted.length;
    this.close();
    this.input.focus();
    // Let the composer update its Send button, as typing would.
    this.input.dispatchEvent(new Event('input', { bubbles: true }));
  }

  private onKey(ev: KeyboardEvent): void {
    if (!this.open || ev.isComposing) {
      return;
    }
    const handled = () => {
      ev.preventDefault();
      ev.stopImmediatePropagation();
    };
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      handled();
      const n = this.shown.length;
      this.active = ev.key === 'ArrowDown' ? (this.active + 1) % n : (this.active - 1 + n) % n;
      this.render();
    } else if ((ev.key === 'Enter' && !ev.shiftKey) || ev.key === 'Tab') {
      if (ev.key === 'Enter' && this.shown[this.active]?.name === this.typed()) {
        this.close(); // the command is typed in full: Enter sends it, as usual
        return;
      }
      handled();
      this.take(this.active);
    } else if (ev.key === 'Escape') {
      handled();
      this.close();
    }
  }

  private listen(target: EventTarget, type: string, fn: EventListener, capture = false): void {
    target.addEventListener(type, fn, capture);
    this.listeners.push([target, type, fn, capture]);
  }
}
