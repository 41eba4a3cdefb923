/** The extension's icons as LabIcons (themable, usable in menus, toolbars and the palette). */
import { LabIcon } from '@jupyterlab/ui-components';

import { ICONS } from '../transcript/icons';

const agentSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 2a1 1 0 0 1 1 1v1.07A7 7 0 0 1 19 11v5a3 3 0 0 1-3 3h-1.6l-1.7 2.55a.85.85 0 0 1-1.4 0L9.6 19H8a3 3 0 0 1-3-3v-5a7 7 0 0 1 6-6.93V3a1 1 0 0 1 1-1zm0 4a5 5 0 0 0-5 5v5a1 1 0 0 0 1 1h2.67L12 19l1.33-2H16a1 1 0 0 0 1-1v-5a5 5 0 0 0-5-5zm-2.5 5a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zm5 0a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3z"/>
  </g>
</svg>`;

export const agentIcon = new LabIcon({ name: 'glue-jupyter:agent', svgstr: agentSvg });

const icon = (name: keyof typeof ICONS) => new LabIcon({ name: `glue-jupyter:${name}`, svgstr: ICONS[name] });

const pause = icon('pause');
const stop = icon('stop');

export const labIcons = {
  agent: agentIcon,
  interrupt: icon('interrupt'),
  pause,
  stop,
  resume: icon('resume'),
  rename: icon('rename'),
  search: icon('search'),
  needsYou: icon('needsYou'),
  // "Pause all" and "Stop all" look like their single-session commands.
  pauseAll: pause,
  stopAll: stop
};
