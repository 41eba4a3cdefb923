/**
 * What a tool call does, rendered for people: the diff of an edit, the content of a new file,
 * the command and folder of an execute, other input as a short list — in tool cards and, before
 * anything happens, in permission requests.
 */
import type { IToolCallInfo } from '../model';
import type { ToolContent } from '../types';
import { IBlockContext, codeBlock, fileLink, languageOfPath } from './blocks';
import { shownPath } from './paths';
import { lineDiff, splitLines, withContext } from './diff';
import { h } from './dom';

type DiffContent = { type: 'diff'; path: string; old_text: string | null; new_text: string };

function baseName(path: string): string {
  return path.replace(/\/+$/, '').split('/').pop() || path;
}

/** "Edit utils.py (+2 −1)" and the changed lines with some context. */
export function diffView(c: DiffContent, ctx: IBlockContext): HTMLElement {
  if (c.old_text === null || c.old_text === undefined) {
    return newFileView(c.path, c.new_text ?? '', ctx);
  }
  const lines = lineDiff(c.old_text, c.new_text ?? '');
  const added = lines.filter(l => l.op === '+').length;
  const removed = lines.filter(l => l.op === '-').length;
  const pre = h('pre', { class: 'jp-GlueDiff-lines' });
  for (const l of withContext(lines)) {
    const cls = l.op === '+' ? 'jp-mod-added' : l.op === '-' ? 'jp-mod-removed' : l.op === '…' ? 'jp-mod-skip' : '';
    pre.appendChild(h('span', { class: `jp-GlueDiff-line ${cls}`, text: `${l.op === '…' ? '⋯' : l.op} ${l.text}\n` }));
  }
  return h(
    'div',
    { class: 'jp-GlueDiff' },
    h(
      'div',
      { class: 'jp-GlueDiff-path' },
      'Edit ',
      fileLink({ path: c.path }, shownPath(c.path, ctx.cwd), ctx),
      h('span', { class: 'jp-GlueDiff-stat', text: `+${added} −${removed}` })
    ),
    pre
  );
}

/** A new file: its path and its whole content, highlighted as its extension says. */
export function newFileView(path: string, content: string, ctx: IBlockContext, verb = 'New file'): HTMLElement {
  const lines = splitLines(content).length;
  return h(
    'div',
    { class: 'jp-GlueDiff jp-mod-newFile' },
    h(
      'div',
      { class: 'jp-GlueDiff-path' },
      `${verb} `,
      fileLink({ path }, shownPath(path, ctx.cwd), ctx),
      h('span', { class: 'jp-GlueDiff-stat', text: `${lines} line${lines === 1 ? '' : 's'}` })
    ),
    codeBlock(content.replace(/\n$/, ''), languageOfPath(path), ctx, baseName(path), false)
  );
}

/** A command line from ACP raw input: a string as is, an argv list shell-quoted. */
export function commandText(command: unknown): string | null {
  if (typeof command === 'string') {
    return command;
  }
  if (Array.isArray(command) && command.every(a => typeof a === 'string')) {
    return command.map(a => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  }
  return null;
}

/** "Run in /project" and the command. */
export function commandView(command: string, folder: string, ctx: IBlockContext): HTMLElement {
  return h(
    'div',
    { class: 'jp-GlueCommand' },
    h('div', { class: 'jp-GlueCommand-where' }, 'Run in ', fileLink({ path: folder }, folder, ctx, 'jp-GlueFile')),
    codeBlock(command, 'shell', ctx, 'command', false)
  );
}

/** Other input as a short list of fields (strings as they are, the rest as compact JSON). */
export function inputView(input: unknown): HTMLElement | null {
  if (input === undefined || input === null) {
    return null;
  }
  if (typeof input !== 'object' || Array.isArray(input)) {
    return h('pre', { class: 'jp-GlueTool-output', text: stringify(input) });
  }
  const dl = h('dl', { class: 'jp-GlueInput' });
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    dl.appendChild(h('dt', { text: key.replace(/_/g, ' ') }));
    const text = typeof value === 'string' ? value : stringify(value, 0);
    dl.appendChild(h('dd', {}, text.includes('\n') ? h('pre', { text }) : h('code', { text })));
  }
  return dl;
}

function field(input: unknown, ...names: string[]): unknown {
  if (input && typeof input === 'object') {
    for (const n of names) {
      const v = (input as Record<string, unknown>)[n];
      if (v !== undefined && v !== null && v !== '') {
        return v;
      }
    }
  }
  return undefined;
}

/** Views of a tool call's content (text output, diffs, terminals). */
export function contentViews(content: ToolContent[], ctx: IBlockContext): HTMLElement[] {
  const out: HTMLElement[] = [];
  for (const c of content) {
    if (c.type === 'text') {
      out.push(h('pre', { class: 'jp-GlueTool-output', text: String((c as any).text ?? '') }));
    } else if (c.type === 'diff') {
      out.push(diffView(c as DiffContent, ctx));
    } else if (c.type === 'terminal') {
      out.push(h('div', { class: 'jp-GlueTool-terminal', text: `Terminal ${(c as any).terminal_id}` }));
    } else if ((c as any).content?.type === 'text') {
      // ACP's {type: "content", content: {type: "text", text}} form.
      out.push(h('pre', { class: 'jp-GlueTool-output', text: String((c as any).content.text ?? '') }));
    }
  }
  return out;
}

/**
 * What approving a tool call will do: the diffs (or new files) it carries, else a new file's
 * content or the command and its folder from its input, else its input as fields.
 */
export function whatWillHappen(tool: IToolCallInfo, ctx: IBlockContext): HTMLElement[] {
  const diffs = tool.content.filter(c => c.type === 'diff') as DiffContent[];
  if (diffs.length) {
    return diffs.map(d => diffView(d, ctx));
  }
  const input = tool.rawInput;
  const command = commandText(field(input, 'command', 'cmd', 'argv'));
  if (command !== null && (tool.kind === 'execute' || field(input, 'command') !== undefined)) {
    const folder = String(field(input, 'cwd', 'workdir', 'directory') ?? ctx.cwd);
    return [commandView(command, folder, ctx)];
  }
  const path = field(input, 'path', 'file_path', 'filePath');
  const content = field(input, 'content', 'new_text', 'newText', 'text');
  if (typeof path === 'string' && typeof content === 'string' && tool.kind === 'edit') {
    return [newFileView(path, content, ctx, 'Write')];
  }
  const views = contentViews(tool.content, ctx);
  const rest = inputView(input);
  // The files it names, when nothing above shows them (a diff or a new file names its own).
  const files = tool.locations.length
    ? [
        h(
          'div',
          { class: 'jp-GluePermission-files' },
          tool.locations.length === 1 ? 'File ' : 'Files ',
          ...tool.locations.map(l =>
            fileLink({ path: l.path, line: l.line ?? undefined }, shownPath(l.path, ctx.cwd), ctx)
          )
        )
      ]
    : [];
  return [...files, ...views, ...(rest ? [rest] : [])];
}

export function stringify(value: unknown, indent = 2): string {
  if (typeof value === 'string') {
    return value;
  }
  try {
    const s = JSON.stringify(value, null, indent);
    return s.length > 20000 ? s.slice(0, 20000) + '\n…' : s;
  } catch {
    return String(value);
  }
}
