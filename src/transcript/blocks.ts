/**
 * Rich pieces inside transcript items: code blocks (highlighted by the host, a copy button and
 * the registered actions) and file paths as links that open the file at its line.
 */
import { ICodeBlockContext } from './actions';
import { copyButton, h } from './dom';
import { ITranscriptHost } from './host';
import { IPathRef, pathIn } from './paths';

export interface IBlockContext {
  host: ITranscriptHost;
  sessionId: string;
  /** A lab session tab or a notebook widget. */
  surface: 'lab' | 'widget';
  /** The session's folder: relative paths in the transcript are relative to it. */
  cwd: string;
}

/** Languages by file extension, for code shown as a file's content. */
const EXTENSION_LANGUAGES: Record<string, string> = {
  py: 'python', ipynb: 'json', js: 'javascript', mjs: 'javascript', ts: 'typescript', tsx: 'tsx',
  jsx: 'jsx', json: 'json', md: 'markdown', sh: 'shell', bash: 'shell', yml: 'yaml', yaml: 'yaml',
  toml: 'toml', css: 'css', html: 'html', sql: 'sql', r: 'r', jl: 'julia', rs: 'rust', go: 'go',
  java: 'java', c: 'c', h: 'c', cpp: 'cpp', txt: ''
};

export function languageOfPath(path: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? '';
  return EXTENSION_LANGUAGES[ext] ?? ext;
}

/**
 * A code block: language, actions and copy on a bar; the code highlighted by the host.
 * `withActions: false` for previews of what an agent asks to write or run: Copy only (nothing
 * should insert or run what the user has not approved yet).
 */
export function codeBlock(
  code: string,
  language: string,
  ctx: IBlockContext,
  label?: string,
  withActions = true
): HTMLElement {
  const codeEl = h('code', { class: language ? `language-${language}` : '' });
  const actions = h('span', { class: 'jp-GlueCode-actions' });
  const status = h('span', { class: 'jp-GlueCodeActions-status', role: 'status' });
  const block = h(
    'div',
    { class: 'jp-GlueCode', 'data-language': language },
    h(
      'div',
      { class: 'jp-GlueCode-bar jp-GlueCodeActions', role: 'toolbar', 'aria-label': 'Code actions' },
      h('span', { class: 'jp-GlueCode-lang', text: label ?? (language || 'text') }),
      actions,
      status
    ),
    h('pre', { class: 'jp-GlueCode-pre' }, codeEl)
  );
  const context: ICodeBlockContext = { code, language, sessionId: ctx.sessionId, surface: ctx.surface, node: block };
  for (const action of withActions ? ctx.host.codeBlockActions.for(context) : []) {
    const title = typeof action.title === 'function' ? action.title(context) : action.title;
    const b = h('button', {
      type: 'button',
      class: 'jp-GlueCode-action',
      title: title ?? action.label,
      'data-action': action.id.split(':').pop()
    });
    if (action.icon) {
      const i = h('span', { class: 'jp-GlueIcon', 'aria-hidden': 'true' });
      i.innerHTML = action.icon;
      b.appendChild(i);
    }
    b.appendChild(document.createTextNode(action.label));
    b.addEventListener('click', async ev => {
      ev.stopPropagation();
      b.disabled = true;
      status.textContent = '';
      status.classList.remove('jp-mod-error');
      try {
        status.textContent = (await action.run(context)) || '';
      } catch (err) {
        status.textContent = (err as Error).message ?? String(err);
        status.classList.add('jp-mod-error');
      } finally {
        b.disabled = false;
      }
    });
    actions.appendChild(b);
  }
  const copy = copyButton(() => code, 'Copy code');
  copy.dataset.action = 'copy';
  actions.appendChild(copy);
  if (ctx.host.highlight && language) {
    ctx.host.highlight(code, language, codeEl).catch(() => {
      codeEl.textContent = code;
    });
  } else {
    codeEl.textContent = code;
  }
  return block;
}

/** A path as a link that opens it (at its line) in the host; plain code when it cannot. */
export function fileLink(ref: IPathRef, label: string, ctx: IBlockContext, cls = 'jp-GlueFile'): HTMLElement {
  const target = ctx.host.openFile && ctx.host.resolvePath ? ctx.host.resolvePath(ref.path, ctx.cwd) : null;
  const code = h('code', { class: cls, text: label });
  if (target === null) {
    return code;
  }
  const where = ref.line ? `${target}, line ${ref.line}` : target;
  const link = h(
    'a',
    {
      class: 'jp-GlueFileLink',
      href: '#',
      title: `Open ${where || '/'} in JupyterLab`,
      'data-glue-open': target,
      'data-line': ref.line ?? null
    },
    code
  );
  return link;
}

/** Turn rendered Markdown's code blocks into ours and its file-like inline code into links. */
export function enhanceMarkdown(el: HTMLElement, ctx: IBlockContext): void {
  for (const pre of Array.from(el.querySelectorAll('pre'))) {
    const code = pre.querySelector('code');
    const text = (code ?? pre).textContent ?? '';
    const language = /(?:^|\s)language-([\w+#.-]+)/.exec(code?.className ?? '')?.[1] ?? '';
    pre.replaceWith(codeBlock(text.replace(/\n$/, ''), language, ctx));
  }
  if (!ctx.host.openFile) {
    return;
  }
  for (const code of Array.from(el.querySelectorAll('code'))) {
    if (code.closest('pre, a, .jp-GlueCode')) {
      continue;
    }
    const ref = pathIn(code.textContent ?? '');
    if (ref) {
      const link = fileLink(ref, code.textContent ?? '', ctx, '');
      if (link.tagName === 'A') {
        code.replaceWith(link);
      }
    }
  }
}
