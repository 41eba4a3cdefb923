/**
 * `glue-jupyter:notebook` — notebooks and agent sessions, in JupyterLab:
 * code from replies into cells (session views: the current notebook; the notebook widget:
 * its own notebook, below its cell), "Ask the agent to fix" on error outputs, and
 * open documents kept in step with what the agent changed on disk.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { IGlueSessions } from '../tokens';
import { insertActions } from './code-actions';
import { fixPrompt, watchErrors } from './fix-button';
import { insertCode } from './insert';
import { absolute } from './paths';
import { defaultAgent, promptNotebookSession } from './send';
import { FileSync } from './sync';

export const notebookPlugin: JupyterFrontEndPlugin<void> = {
  id: 'glue-jupyter:notebook',
  description: 'Notebooks and agent sessions: code into cells, fix buttons on errors, open files kept in sync.',
  autoStart: true,
  requires: [IGlueSessions, INotebookTracker, IDocumentManager],
  activate: (app: JupyterFrontEnd, glue: IGlueSessions, notebooks: INotebookTracker, docManager: IDocumentManager) => {
    const contents = app.serviceManager.contents;
    const rootDir = glue.api
      .info()
      .then(info => info.root_dir ?? null)
      .catch(() => null);

    // Code from replies into cells, on every code block of the page's transcripts: a session
    // tab puts it below the active cell of the current notebook; a notebook widget, below the
    // cell that holds it (no kernel involved: it works while the kernel is busy).
    const belowItsCell = {
      where: 'below this cell',
      insert: async (code: string, run: boolean, from: HTMLElement) => {
        const panel = notebooks.find(p => p.node.contains(from));
        if (!panel) {
          throw new Error('This widget is not in an open notebook: copy the code instead.');
        }
        const index = panel.content.widgets.findIndex(cell => cell.node.contains(from));
        await insertCode(panel, code, { run, belowCellIndex: index >= 0 ? index : undefined });
      }
    };
    const toCurrentNotebook = {
      where: 'below the active cell of the current notebook',
      insert: async (code: string, run: boolean) => {
        const panel = notebooks.currentWidget;
        if (!panel) {
          throw new Error('Open a notebook first: the code goes below its active cell.');
        }
        await insertCode(panel, code, { run });
      }
    };
    for (const action of insertActions(context => (context.surface === 'widget' ? belowItsCell : toCurrentNotebook))) {
      glue.codeBlockActions.add(action);
    }

    // Error outputs: send them to the notebook's session.
    const onFix = async (failed: Parameters<Parameters<typeof watchErrors>[1]>[0], button: HTMLButtonElement) => {
      const root = await rootDir;
      if (root === null) {
        Notification.error('The glue_jupyter server extension is not reachable.', { autoClose: 8000 });
        return;
      }
      const notebook = absolute(failed.panel.context.localPath, root);
      const { text, context } = fixPrompt(failed, notebook);
      button.disabled = true;
      try {
        const session = await promptNotebookSession(glue.api, {
          notebook,
          cwd: notebook.slice(0, notebook.lastIndexOf('/')) || '/',
          text,
          context,
          agent: () => defaultAgent(glue.api, glue.model.sessions)
        });
        glue.model.set(session);
        glue.open(session.id);
      } catch (err) {
        Notification.error((err as Error).message ?? String(err), { autoClose: 10000 });
      } finally {
        button.disabled = false;
      }
    };
    notebooks.widgetAdded.connect((_, panel: NotebookPanel) => watchErrors(panel, onFix));
    notebooks.forEach(panel => watchErrors(panel, onFix));

    // Open documents follow the agent's changes on disk.
    const contextsFor = (path: string): DocumentRegistry.Context[] => {
      const found = new Set<DocumentRegistry.Context>();
      for (const widget of app.shell.widgets('main')) {
        const context = docManager.contextForWidget(widget);
        if (context && contents.localPath(context.path) === path) {
          found.add(context);
        }
      }
      return [...found];
    };
    new FileSync({ api: glue.api, model: glue.model, contents, rootDir, contextsFor, openSession: glue.open });
  }
};
