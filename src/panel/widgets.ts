/** Small JupyterLab-styled pieces for the side panel (lab-only: it may use @jupyterlab). */
import { caretDownEmptyIcon } from '@jupyterlab/ui-components';

import { h } from '../transcript/dom';

/** A <select> dressed as JupyterLab's own (ui-components' HTMLSelect: its classes and caret). */
export function styledSelect(select: HTMLSelectElement, className = ''): HTMLElement {
  const box = h('div', { class: `jp-HTMLSelect jp-DefaultStyle jp-GlueSelect ${className}`.trim() }, select);
  box.appendChild(caretDownEmptyIcon.element({ tag: 'span', stylesheet: 'select', right: '4px', top: '4px' }));
  return box;
}
