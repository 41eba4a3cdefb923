/**
 * What the page around a transcript can do for it. JupyterLab can do more than a bare page:
 * highlight code with its own CodeMirror, open files in its editors at a line, and share its
 * code-block actions. The lab's session views get the lab's host directly; a notebook widget
 * (a separate bundle, no @jupyterlab imports) asks the page for it with a DOM event that the lab
 * extension answers, so in JupyterLab it looks and acts the same, and elsewhere it still works.
 */
import { CodeBlockActions, codeBlockActions } from './actions';

export interface ITranscriptHost {
  /** Highlight `code` as `language` into `el` (append to it). */
  highlight?(code: string, language: string, el: HTMLElement): Promise<void>;
  /**
   * Where a path the agent wrote (absolute, or relative to the session's folder) can be opened,
   * as a path under the server's root; null when it cannot be (outside the root).
   */
  resolvePath?(path: string, cwd: string): string | null;
  /** Open a file (a path from `resolvePath`) in an editor, at a 1-based line when given. */
  openFile?(path: string, line?: number): Promise<void>;
  /** Actions on code blocks (copy is built in). */
  codeBlockActions: CodeBlockActions;
  /** The server's root directory: folders are shown relative to it. */
  serverRoot?: string;
  /** Tell the lab a session view showed up in the page (the lab marks its notebook's tab). */
  viewMounted?(sessionId: string, node: HTMLElement): void;
}

/** A page without JupyterLab: no highlighting, no file links, this bundle's actions. */
export const plainHost: ITranscriptHost = { codeBlockActions };

/** The DOM event a widget dispatches to find the lab's host (`detail.host` is filled in). */
export const HOST_REQUEST = 'glue-jupyter:host-request';

export interface IHostRequest {
  host?: ITranscriptHost;
}

/** The page's host: JupyterLab's when the lab extension is there, the plain one otherwise. */
export function pageHost(): ITranscriptHost {
  const detail: IHostRequest = {};
  document.dispatchEvent(new CustomEvent<IHostRequest>(HOST_REQUEST, { detail }));
  return detail.host ?? plainHost;
}
