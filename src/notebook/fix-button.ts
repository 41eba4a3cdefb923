/**
 * "Ask the agent to fix" on a notebook's error outputs: the traceback, the failing cell's
 * source and a link to the notebook go to the notebook's session, straight from the page
 * (the kernel may be busy or gone).
 */
import { CodeCell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';

import { h } from '../transcript/dom';
import { IContextBlock } from '../types';

const BUTTON = 'jp-GlueFixButton';
// Colours and cursor moves in tracebacks (IPython's ANSI styling).
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export interface IFailedCell {
  panel: NotebookPanel;
  /** 1-based position of the cell in the notebook. */
  position: number;
  executionCount: number | null;
  source: string;
  ename: string;
  evalue: string;
  traceback: string;
}

/** The prompt text and context blocks for a failed cell of the notebook at `notebook`. */
export function fixPrompt(failed: IFailedCell, notebook: string): { text: string; context: IContextBlock[] } {
  const where = failed.executionCount !== null ? `In[${failed.executionCount}]` : `cell ${failed.position}`;
  const summary = `${failed.ename}: ${failed.evalue}`;
  const name = notebook.split('/').pop() ?? notebook;
  return {
    text: `Fix the error that ${where} raised: ${summary}`,
    context: [
      {
        type: 'resource',
        uri: `file://${notebook}#cell=${failed.position}`,
        name: where,
        title: `The cell ${where} that raised`,
        mime_type: 'text/x-python',
        text: failed.source
      },
      {
        type: 'resource',
        uri: `jupyter://kernel/traceback/${failed.executionCount ?? failed.position}`,
        name: `traceback ${where}`,
        title: summary,
        mime_type: 'text/x-python-traceback',
        text: failed.traceback
      },
      { type: 'resource_link', uri: `file://${notebook}`, name, title: `The notebook ${name}`, mime_type: 'application/x-ipynb+json' }
    ]
  };
}

/** Keep a button on every error output of the notebook's code cells. */
export function watchErrors(panel: NotebookPanel, onFix: (failed: IFailedCell, button: HTMLButtonElement) => void): void {
  const hooked = new WeakSet<CodeCell>();
  const decorate = (cell: CodeCell) => {
    const outputs = cell.outputArea.model;
    for (let i = 0; i < outputs.length; i++) {
      const output = outputs.get(i);
      const child = cell.outputArea.widgets[i];
      if (output.type !== 'error' || !child || child.node.querySelector(`.${BUTTON}`)) {
        continue;
      }
      const data = output.toJSON() as { ename?: string; evalue?: string; traceback?: string[] };
      const button = h('button', {
        type: 'button',
        class: `jp-GlueButton ${BUTTON}`,
        title: "Send the traceback and this cell's source to the notebook's agent session"
      });
      button.textContent = 'Ask the agent to fix';
      button.addEventListener('click', () => {
        const position = panel.content.widgets.indexOf(cell) + 1;
        onFix(
          {
            panel,
            position,
            executionCount: cell.model.executionCount ?? null,
            source: cell.model.sharedModel.getSource(),
            ename: String(data.ename ?? 'Error'),
            evalue: String(data.evalue ?? ''),
            traceback: (data.traceback ?? []).join('\n').replace(ANSI, '').replace(/^-+\n/, '')
          },
          button
        );
      });
      child.node.appendChild(h('div', { class: 'jp-GlueFixBar' }, button));
    }
  };
  const hook = () => {
    for (const cell of panel.content.widgets) {
      if (cell instanceof CodeCell && !hooked.has(cell)) {
        hooked.add(cell);
        cell.outputArea.model.changed.connect(() => requestAnimationFrame(() => decorate(cell)));
        decorate(cell);
      }
    }
  };
  void panel.context.ready.then(() => {
    hook();
    panel.content.model?.cells.changed.connect(() => requestAnimationFrame(hook));
  });
}
