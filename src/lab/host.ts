/**
 * The transcript host in JupyterLab: code highlighted by JupyterLab's own CodeMirror languages
 * and highlight style, files opened in JupyterLab's editors at their line, the extension's
 * code-block actions — handed to the lab's session views, and to notebook widgets (a separate
 * bundle) that ask the page for it (host.ts `HOST_REQUEST`).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { IEditorLanguageRegistry, jupyterHighlightStyle } from '@jupyterlab/codemirror';

import { CodeBlockActions } from '../transcript/actions';
import { HOST_REQUEST, IHostRequest, ITranscriptHost } from '../transcript/host';
import { relativeToRoot } from '../transcript/paths';

const STYLE_ID = 'glue-jupyter-highlight-style';

export interface ILabHostOptions {
  app: JupyterFrontEnd;
  languages: IEditorLanguageRegistry | null;
  serverRoot: string;
  codeBlockActions: CodeBlockActions;
}

export class LabHost implements ITranscriptHost {
  readonly codeBlockActions: CodeBlockActions;
  readonly serverRoot: string;
  /** Session views in the page (notebook widgets included), as they show up. */
  readonly views = new Map<HTMLElement, string>();
  private readonly app: JupyterFrontEnd;
  private readonly languages: IEditorLanguageRegistry | null;

  constructor(options: ILabHostOptions) {
    this.app = options.app;
    this.languages = options.languages;
    this.serverRoot = options.serverRoot;
    this.codeBlockActions = options.codeBlockActions;
  }

  /** Answer the notebook widgets' requests for this host. */
  listen(): () => void {
    const answer = (ev: Event) => {
      (ev as CustomEvent<IHostRequest>).detail.host = this;
    };
    document.addEventListener(HOST_REQUEST, answer);
    return () => document.removeEventListener(HOST_REQUEST, answer);
  }

  async highlight(code: string, language: string, el: HTMLElement): Promise<void> {
    const found = this.languages?.findBest(language) ?? null;
    if (!found) {
      el.textContent = code;
      return;
    }
    ensureHighlightStyle();
    el.textContent = '';
    await this.languages!.highlight(code, found, el);
  }

  resolvePath(path: string, cwd: string): string | null {
    return relativeToRoot(path.replace(/^~(?=\/|$)/, ''), cwd, this.serverRoot);
  }

  async openFile(path: string, line?: number): Promise<void> {
    const { commands, serviceManager } = this.app;
    const model = await serviceManager.contents.get(path, { content: false });
    if (model.type === 'directory') {
      await commands.execute('filebrowser:go-to-path', { path: `/${path}` });
      await commands.execute('filebrowser:activate', {});
      return;
    }
    // At a line: in the text editor (a notebook or a rendered view has no lines to go to).
    const factory = line && model.type === 'file' ? 'Editor' : undefined;
    const widget: any = await commands.execute('docmanager:open', { path, factory });
    if (line && widget) {
      await widget.context?.ready;
      await widget.revealed;
      const editor = widget.content?.editor;
      if (editor) {
        await untilLines(editor, line);
      }
      // JupyterLab's own way to a line of a file (RFC 5147 fragments count lines from 0).
      await widget.setFragment?.(`#line=${Math.max(0, line - 1)}`);
    }
  }

  viewMounted(sessionId: string, node: HTMLElement): void {
    this.views.set(node, sessionId);
    for (const n of Array.from(this.views.keys())) {
      if (!n.isConnected && n !== node) {
        this.views.delete(n);
      }
    }
  }
}

/** The editor holds the file's text once its model has synced; wait for it (up to a few seconds). */
function untilLines(editor: any, line: number, timeout = 3000): Promise<void> {
  const shared = editor.model?.sharedModel;
  if (!shared?.changed || editor.lineCount >= line) {
    return Promise.resolve();
  }
  return new Promise(resolve => {
    const done = () => {
      shared.changed.disconnect(check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => {
      if (editor.lineCount >= line) {
        done();
      }
    };
    const timer = setTimeout(done, timeout);
    shared.changed.connect(check);
  });
}

/** JupyterLab's highlight classes get their colours once an editor exists; make sure they have them. */
function ensureHighlightStyle(): void {
  if (document.getElementById(STYLE_ID)) {
    return;
  }
  const rules = (jupyterHighlightStyle as any).module?.getRules?.();
  if (rules) {
    const style = document.createElement('style');
    style.id = STYLE_ID;
    style.textContent = rules;
    document.head.appendChild(style);
  }
}
