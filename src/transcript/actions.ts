/**
 * Actions on code blocks in transcripts (copy is built in). Other features add theirs here —
 * e.g. "insert below" into a notebook — and every transcript shows them on its code blocks:
 *
 *     import { codeBlockActions } from 'glue-jupyter/lib/transcript/actions';
 *     const remove = codeBlockActions.add({
 *       id: 'my-ext:insert-below', label: 'Insert below', title: 'Insert as a new cell below',
 *       run: ({ code, language, node }) => … // may return a word to show ("Inserted")
 *     });
 *
 * In JupyterLab the same registry is on the `IGlueSessions` token (`codeBlockActions`), and
 * notebook widgets in the lab use it too (they get it through the lab's transcript host).
 */
import { Emitter } from '../model';

export interface ICodeBlockContext {
  /** The code, as the agent wrote it. */
  code: string;
  /** The fence's language ('' when none was given). */
  language: string;
  /** The session whose transcript shows the block. */
  sessionId: string;
  /** Where the transcript is: a lab session tab, or a notebook widget (in a cell's output). */
  surface: 'lab' | 'widget';
  /** The code block's element (attached by the time an action runs). */
  node: HTMLElement;
}

export interface ICodeBlockAction {
  /** Unique, namespaced (`my-extension:insert-below`); the button's `data-action` is its last part. */
  id: string;
  /** Short button text. */
  label: string;
  /** Tooltip. */
  title?: string | ((context: ICodeBlockContext) => string);
  /** An SVG string shown before the label. */
  icon?: string;
  /** Where it applies (default: every code block). */
  isVisible?(context: ICodeBlockContext): boolean;
  /** Do it; a returned word ("Inserted") is shown beside the buttons, a thrown error's message too. */
  run(context: ICodeBlockContext): void | string | Promise<void | string>;
}

export class CodeBlockActions {
  /** Emitted when actions are added or removed (open transcripts re-render their blocks). */
  readonly changed = new Emitter<void>();
  private readonly actions = new Map<string, ICodeBlockAction>();

  /** Add an action; returns a function that removes it again. */
  add(action: ICodeBlockAction): () => void {
    this.actions.set(action.id, action);
    this.changed.emit();
    return () => {
      if (this.actions.get(action.id) === action) {
        this.actions.delete(action.id);
        this.changed.emit();
      }
    };
  }

  /** The actions that apply to a block, in the order they were added. */
  for(context: ICodeBlockContext): ICodeBlockAction[] {
    return Array.from(this.actions.values()).filter(a => !a.isVisible || a.isVisible(context));
  }
}

/** The registry of this bundle (the lab extension's, or the notebook widget's). */
export const codeBlockActions = new CodeBlockActions();
