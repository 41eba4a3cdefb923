/**
 * Buttons on the code blocks of agent replies: "Insert below" and "Insert and run" where a
 * notebook can take the code, "Copy" always. Framework-free: the lab's session views and the
 * notebook widget both use it, each with its own way to insert.
 *
 * It decorates a transcript node as it renders (the renderer redraws a streaming message,
 * so decorations are re-applied on every change of the node).
 */
import { h } from '../transcript/dom';

export interface ICodeTarget {
  /** Whether code can go into a notebook from here at all (else: Copy only). */
  available(): boolean;
  /** Where the code goes, for the buttons' tooltips ("below the active cell"). */
  where: string;
  /** Insert (and run); rejects with a message for the user. */
  insert(code: string, run: boolean, from: HTMLElement): Promise<void>;
}

const BAR = 'jp-GlueCodeActions';
const INSERTABLE = new Set(['', 'python', 'py', 'ipython', 'python3', 'sql', 'r', 'julia']);

function language(code: HTMLElement): string {
  const match = /language-([\w+-]+)/.exec(code.className);
  return match ? match[1].toLowerCase() : '';
}

function button(label: string, title: string, action: string): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'jp-GlueButton jp-GlueCodeAction', title, 'data-action': action });
  b.textContent = label;
  return b;
}

function decorate(pre: HTMLElement, target: ICodeTarget): void {
  const code = pre.querySelector('code') as HTMLElement | null;
  if (!code || pre.previousElementSibling?.classList.contains(BAR)) {
    return;
  }
  const text = code.textContent ?? '';
  const bar = h('div', { class: BAR, role: 'toolbar', 'aria-label': 'Code actions' });
  bar.appendChild(h('span', { class: 'jp-GlueCodeActions-language', text: language(code) || 'code' }));
  const status = h('span', { class: 'jp-GlueCodeActions-status', role: 'status' });
  if (target.available() && INSERTABLE.has(language(code))) {
    for (const [label, run, action] of [
      ['Insert below', false, 'insert'],
      ['Insert and run', true, 'insert-run']
    ] as const) {
      const b = button(label, `${run ? 'Insert and run' : 'Insert'} this code ${target.where}`, action);
      b.addEventListener('click', async () => {
        status.textContent = '';
        b.disabled = true;
        try {
          await target.insert(text, run, pre);
          status.textContent = run ? 'Inserted and running' : 'Inserted';
        } catch (err) {
          status.textContent = (err as Error).message ?? String(err);
          status.classList.add('jp-mod-error');
        } finally {
          b.disabled = false;
        }
      });
      bar.appendChild(b);
    }
  }
  const copy = button('Copy', 'Copy this code to the clipboard', 'copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = 'Copied';
    } catch {
      status.textContent = 'The browser refused the clipboard';
    }
  });
  bar.appendChild(copy);
  bar.appendChild(status);
  pre.parentElement?.insertBefore(bar, pre);
}

/** Keep code actions on every code block of agent messages under `root`. */
export function attachCodeActions(root: HTMLElement, target: ICodeTarget): () => void {
  const run = () => root.querySelectorAll<HTMLElement>('.jp-GlueMarkdown pre').forEach(pre => decorate(pre, target));
  let frame = 0;
  const observer = new MutationObserver(() => {
    if (!frame) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        run();
      });
    }
  });
  observer.observe(root, { childList: true, subtree: true });
  run();
  return () => {
    observer.disconnect();
    if (frame) {
      cancelAnimationFrame(frame);
    }
  };
}
