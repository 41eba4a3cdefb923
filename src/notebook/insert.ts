/**
 * Taking code from an agent's reply into a notebook: a new code cell below the active cell
 * (or below a given cell), optionally run. Goes through the notebook's own commands and
 * model, never through its kernel's busy queue for the insertion itself.
 */
import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';

export interface IInsertOptions {
  /** Insert below this cell (the widget's own cell); default: the active cell. */
  belowCellIndex?: number;
  run?: boolean;
}

/** Insert `code` as a new code cell; returns the new cell's index. */
export async function insertCode(panel: NotebookPanel, code: string, options: IInsertOptions = {}): Promise<number> {
  await panel.context.ready;
  const notebook = panel.content;
  if (options.belowCellIndex !== undefined) {
    notebook.activeCellIndex = options.belowCellIndex;
  }
  NotebookActions.insertBelow(notebook);
  if (notebook.activeCell?.model.type !== 'code') {
    NotebookActions.changeCellType(notebook, 'code');
  }
  const cell = notebook.activeCell!;
  cell.model.sharedModel.setSource(code.replace(/\n+$/, ''));
  const index = notebook.activeCellIndex;
  if (options.run) {
    await NotebookActions.run(notebook, panel.sessionContext);
  }
  return index;
}
