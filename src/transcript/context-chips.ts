/**
 * Context chips: one per block a prompt carried (a variable, a cell, a traceback, a
 * notebook). A chip names what was attached; opened, it shows exactly what the agent was
 * sent — the embedded text verbatim, or the link.
 */
import type { IContextBlock } from '../types';
import { h } from './dom';

const HOW: Record<string, string> = {
  resource: 'embedded',
  text: 'sent as text',
  resource_link: 'link'
};

function size(chars: number): string {
  if (chars < 1000) {
    return `${chars} chars`;
  }
  return chars < 1_000_000 ? `${(chars / 1000).toFixed(1)} k chars` : `${(chars / 1_000_000).toFixed(1)} M chars`;
}

function chip(block: IContextBlock): HTMLElement {
  const how = block.sent_as ?? (block.type === 'resource_link' ? 'resource_link' : 'resource');
  const link = block.type === 'resource_link';
  const meta = link ? HOW.resource_link : `${HOW[how] ?? how} · ${size((block.text ?? '').length)}`;
  const body = link
    ? h(
        'div',
        { class: 'jp-GlueChip-body' },
        h('div', { class: 'jp-GlueChip-note', text: 'The agent was sent this link; it reads the target itself.' }),
        h('pre', { class: 'jp-GlueChip-text', text: block.uri })
      )
    : h(
        'div',
        { class: 'jp-GlueChip-body' },
        how === 'text'
          ? h('div', {
              class: 'jp-GlueChip-note',
              text: 'This agent takes no embedded context: the block below was sent as plain text.'
            })
          : null,
        h('pre', { class: 'jp-GlueChip-text', text: block.text ?? '' })
      );
  return h(
    'details',
    {
      class: 'jp-GlueChip',
      'data-type': block.type,
      'data-sent-as': how,
      'data-uri': block.uri
    },
    h(
      'summary',
      { title: block.title || block.uri },
      h('span', { class: `jp-GlueChip-icon jp-mod-${link ? 'link' : 'resource'}`, 'aria-hidden': 'true' }),
      h('span', { class: 'jp-GlueChip-name', text: block.name }),
      h('span', { class: 'jp-GlueChip-meta', text: meta })
    ),
    body
  );
}

/** The chips of a prompt's context, or null when it carried none. */
export function renderContextChips(blocks: IContextBlock[] | undefined): HTMLElement | null {
  if (!blocks || !blocks.length) {
    return null;
  }
  return h('div', { class: 'jp-GlueChips', 'aria-label': 'Context sent with this message' }, ...blocks.map(chip));
}
