/**
 * A confirmation dialog inside the session view (framework-free, so the notebook widget has
 * it too): a title, a body that may load (a preview), Cancel and a confirm button. Escape or
 * Cancel resolves false; nothing happens until the user confirms.
 */
import { h } from '../transcript/dom';

export interface IConfirmOptions {
  title: string;
  /** The body, or a promise of it (shown as "Loading…" meanwhile; an error is shown in its place). */
  body: HTMLElement | Promise<HTMLElement>;
  confirmLabel: string;
  /** A destructive action: the confirm button is styled as a warning. */
  danger?: boolean;
  /** Whether the confirm button may be pressed once the body is there. */
  canConfirm?: (body: HTMLElement) => boolean;
}

export function confirmInView(host: HTMLElement, opts: IConfirmOptions): Promise<boolean> {
  return new Promise(resolve => {
    const content = h('div', { class: 'jp-GlueDialog-body' }, h('div', { class: 'jp-GlueDialog-loading', text: 'Loading…' }));
    const cancel = h('button', { type: 'button', class: 'jp-GlueButton jp-GlueDialog-cancel', text: 'Cancel' });
    const confirm = h('button', {
      type: 'button',
      class: `jp-GlueButton jp-GlueDialog-confirm ${opts.danger ? 'jp-mod-warn' : 'jp-mod-accept'}`,
      text: opts.confirmLabel,
      disabled: true
    });
    const titleId = `jp-GlueDialog-title-${Math.random().toString(36).slice(2)}`;
    const box = h(
      'div',
      { class: 'jp-GlueDialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId },
      h('div', { class: 'jp-GlueDialog-title', id: titleId, text: opts.title }),
      content,
      h('div', { class: 'jp-GlueDialog-buttons' }, cancel, confirm)
    );
    const overlay = h('div', { class: 'jp-GlueDialog-overlay' }, box);
    const close = (answer: boolean) => {
      overlay.remove();
      resolve(answer);
    };
    cancel.addEventListener('click', () => close(false));
    confirm.addEventListener('click', () => close(true));
    overlay.addEventListener('click', ev => {
      if (ev.target === overlay) {
        close(false);
      }
    });
    overlay.addEventListener('keydown', ev => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        close(false);
      }
    });
    host.appendChild(overlay);
    cancel.focus();
    Promise.resolve(opts.body).then(
      body => {
        content.textContent = '';
        content.appendChild(body);
        confirm.disabled = opts.canConfirm ? !opts.canConfirm(body) : false;
      },
      err => {
        content.textContent = '';
        content.appendChild(h('div', { class: 'jp-GlueError', role: 'alert', text: (err as Error).message ?? String(err) }));
      }
    );
  });
}
