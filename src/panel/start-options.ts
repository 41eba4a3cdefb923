/**
 * The new-session form's pickers for the agent's mode, model and other options, from what the
 * agent's latest session was offered (`GET api/glue/agents` → `config`): JupyterLab's styled
 * selects, each starting at "the agent's default" (then nothing is sent). A mode the
 * permission policy refuses is listed, disabled, saying why. An agent not run here yet has
 * nothing to offer: the form says where to choose instead.
 */
import { Styling } from '@jupyterlab/ui-components';

import { h } from '../transcript/dom';
import type { IAgent, IAgentOption } from '../types';

export interface IStartChoices {
  mode?: string;
  model?: string;
  config?: Record<string, string | boolean>;
}

/** Mode first, model second, then the rest as the agent lists them. */
function rank(option: IAgentOption): number {
  return option.category === 'mode' || option.id === 'mode' ? 0 : option.category === 'model' || option.id === 'model' ? 1 : 2;
}

export class StartOptions {
  readonly node: HTMLElement;
  private readonly fields: HTMLElement;
  private readonly hint: HTMLElement;
  private selects: { option: IAgentOption; select: HTMLSelectElement }[] = [];
  private agent: string | null = null;

  constructor() {
    this.fields = h('div', { class: 'jp-GlueStartOptions-fields' });
    this.hint = h('div', { class: 'jp-GlueStartOptions-hint' });
    this.node = h('div', { class: 'jp-GlueStartOptions' }, this.fields, this.hint);
  }

  /** Show the pickers of `agent` (kept as they are when it is the same agent). */
  update(agent: IAgent | undefined): void {
    if (agent?.name === this.agent && this.selects.length) {
      return;
    }
    this.agent = agent?.name ?? null;
    this.fields.textContent = '';
    this.selects = [];
    const options = (agent?.config ?? []).slice().sort((a, b) => rank(a) - rank(b));
    for (const option of options) {
      const select = this.picker(option);
      this.selects.push({ option, select });
      const wrapped = Styling.wrapSelect(select);
      this.fields.appendChild(
        h('label', { class: 'jp-GlueNew-field jp-GlueStartOptions-field', title: option.description ?? '' },
          h('span', { text: option.name }), wrapped)
      );
    }
    const unknown = !!agent?.installed && !options.length;
    this.hint.textContent = unknown
      ? `Mode and model: ${agent?.title || agent?.name} has not run here yet, so its choices are not known. ` +
        "Start it, then choose them in the session's header."
      : '';
    this.hint.style.display = unknown ? '' : 'none';
  }

  private picker(option: IAgentOption): HTMLSelectElement {
    const select = h('select', {
      class: 'jp-GlueStartOptions-select',
      name: `option-${option.id}`,
      'aria-label': option.name,
      'data-option': option.id
    });
    // The agent's default is what its last session started with, before anyone changed it:
    // not known for sure, so it is not named.
    select.appendChild(h('option', { value: '', text: "Agent's default" }));
    if (option.type === 'boolean') {
      select.appendChild(h('option', { value: 'true', text: 'On' }));
      select.appendChild(h('option', { value: 'false', text: 'Off' }));
      return select;
    }
    let group: HTMLElement = select;
    for (const choice of option.choices) {
      if (choice.group && choice.group !== group.getAttribute('label')) {
        group = select.appendChild(h('optgroup', { label: choice.group }));
      } else if (!choice.group) {
        group = select;
      }
      const refused = choice.allowed === false;
      const label = refused ? `${choice.name} — refused by the permission policy` : choice.name;
      group.appendChild(h('option', { value: choice.value, text: label, disabled: refused, title: choice.description ?? '' }));
    }
    return select;
  }

  /** What the user picked (nothing for pickers left at the agent's default). */
  values(): IStartChoices {
    const out: IStartChoices = {};
    const config: Record<string, string | boolean> = {};
    for (const { option, select } of this.selects) {
      if (!select.value) {
        continue;
      }
      const value = option.type === 'boolean' ? select.value === 'true' : select.value;
      if (rank(option) === 0 && !out.mode) {
        out.mode = String(value);
      } else if (rank(option) === 1 && !out.model) {
        out.model = String(value);
      } else {
        config[option.id] = value;
      }
    }
    if (Object.keys(config).length) {
      out.config = config;
    }
    return out;
  }

  /** Back to the agent's defaults (after a start). */
  reset(): void {
    for (const { select } of this.selects) {
      select.value = '';
    }
  }
}
