/**
 * Every action on agent sessions as a JupyterLab command: palette, context menus, the tab's
 * toolbar, the side panel's toolbar, the launcher and keyboard shortcuts (schema/sessions.json)
 * all go through these.
 *
 * Which session a command acts on: the `id` argument when given (toolbar buttons, the Running
 * panel); a session row when invoked from that row's context menu; otherwise the session whose
 * tab is current — never a row right-clicked some time before.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, InputDialog, MainAreaWidget, Notification, WidgetTracker, showDialog } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { addIcon } from '@jupyterlab/ui-components';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';

import { GlueAPI } from '../client';
import { SessionsModel } from '../model';
import { ISearchHit, SessionsPanel } from '../panel/panel';
import { SessionPanel } from '../panel/session-panel';
import { labIcons } from '../panel/icons';
import { h } from '../transcript/dom';
import { Control, ISession, canControl } from '../types';
import { AttentionSignals } from './attention';

export namespace CommandIDs {
  export const showPanel = 'glue:show-panel';
  export const newSession = 'glue:new-session';
  export const startHere = 'glue:start-here';
  export const search = 'glue:search-sessions';
  export const open = 'glue:open-session';
  export const interrupt = 'glue:interrupt-session';
  export const pause = 'glue:pause-session';
  export const stop = 'glue:stop-session';
  export const resume = 'glue:resume-session';
  export const rename = 'glue:rename-session';
  export const forget = 'glue:forget-session';
  export const pauseAll = 'glue:pause-all';
  export const stopAll = 'glue:stop-all';
  export const find = 'glue:find-in-session';
  export const focusComposer = 'glue:focus-composer';
  export const nextNeedingYou = 'glue:next-needing-you';
  export const reconnect = 'glue:reconnect';
  export const openFromUrl = 'glue:open-from-url';
}

/** The session rows of the side panel (context-menu targets). */
export const ITEM_SELECTOR = '.jp-GlueSessionList-item';

export interface ICommandContext {
  app: JupyterFrontEnd;
  api: GlueAPI;
  model: SessionsModel;
  panel: SessionsPanel;
  tracker: WidgetTracker<MainAreaWidget<SessionPanel>>;
  attention: AttentionSignals;
  fileBrowser: IDefaultFileBrowser | null;
  open: (id: string, hit?: ISearchHit) => void;
  findWidget: (id: string) => MainAreaWidget<SessionPanel> | undefined;
  checkServer: () => void;
}

type Args = ReadonlyPartialJSONObject;

export function addCommands(ctx: ICommandContext): void {
  const { app, api, model, panel, tracker } = ctx;
  const { commands, shell } = app;

  /** Invoked from a session row's context menu (those items carry `row: true`). */
  const rowId = (args: Args): string | null => {
    if (!args.row) {
      return null;
    }
    const node = app.contextMenuHitTest(n => n.matches?.(ITEM_SELECTOR));
    return node?.dataset.sessionId ?? null;
  };
  const resolveId = (args: Args): string | null => {
    if (typeof args.id === 'string' && args.id) {
      return args.id;
    }
    return rowId(args) ?? tracker.currentWidget?.content.sessionId ?? null;
  };
  const resolveSession = (args: Args): ISession | null => {
    const id = resolveId(args);
    return id ? (model.get(id) ?? ctx.findWidget(id)?.content.session ?? null) : null;
  };
  /** Labels: "Pause" in menus and toolbars (the target is plain), "Pause Agent Session" elsewhere. */
  const named = (args: Args, short: string, long: string) => (args.row || args.toolbar || args.id ? short : long);
  const fromKeys = (args: Args) => (args._luminoEvent as any)?.type === 'keybinding';

  const runControl = async (control: Control, args: Args) => {
    const id = resolveId(args);
    if (!id) {
      return;
    }
    const view = ctx.findWidget(id)?.content.view;
    if (view) {
      await view.control(control);
      return;
    }
    try {
      model.set(await api.control(id, control));
    } catch (err) {
      Notification.error((err as Error).message, { autoClose: 8000 });
    }
  };

  commands.addCommand(CommandIDs.showPanel, {
    label: 'Show Agent Sessions',
    caption: 'Show the Agent sessions side panel',
    execute: () => shell.activateById(panel.id)
  });
  commands.addCommand(CommandIDs.newSession, {
    label: args => (args.launcher ? 'Agent Session' : args.toolbar ? 'New' : 'New Agent Session…'),
    caption: 'Start a coding agent in a folder',
    icon: args => (args.isPalette ? undefined : args.toolbar ? addIcon : labIcons.agent),
    execute: args => {
      shell.activateById(panel.id);
      // From the launcher: in the folder the launcher was opened in.
      panel.showForm(typeof args.cwd === 'string' ? args.cwd : undefined);
    }
  });
  commands.addCommand(CommandIDs.startHere, {
    label: 'Start Agent Here…',
    caption: 'Start an agent session in this folder',
    icon: labIcons.agent,
    isVisible: () => !!ctx.fileBrowser,
    execute: () => {
      const browser = ctx.fileBrowser;
      if (!browser) {
        return;
      }
      const item = browser.selectedItems().next()?.value;
      const folder = !item ? browser.model.path : item.type === 'directory' ? item.path : dirname(item.path);
      shell.activateById(panel.id);
      panel.showForm(folder.replace(/^[^/:]+:/, ''));
    }
  });
  commands.addCommand(CommandIDs.search, {
    label: 'Search Agent Sessions',
    execute: () => {
      shell.activateById(panel.id);
      panel.focusSearch();
    }
  });
  commands.addCommand(CommandIDs.open, {
    label: args => named(args, 'Open', 'Open Agent Session'),
    caption: 'Open the session transcript in the main area',
    isEnabled: args => !!resolveId(args),
    execute: args => {
      const id = resolveId(args);
      if (id) {
        ctx.open(id);
      }
    }
  });

  const controls: [Control, string, string, string][] = [
    [ 'interrupt', CommandIDs.interrupt, 'Interrupt', 'Cancel the turn in progress; the session stays alive' ],
    [ 'pause', CommandIDs.pause, 'Pause', 'Freeze the agent where it is and free its slot' ],
    [ 'stop', CommandIDs.stop, 'Stop', "End the agent's process; the transcript is kept" ],
    [ 'resume', CommandIDs.resume, 'Resume', 'Continue the conversation' ]
  ];
  for (const [control, id, label, caption] of controls) {
    commands.addCommand(id, {
      label: args => named(args, label, `${label} Agent Session`),
      caption,
      icon: labIcons[control],
      // A shortcut (Escape interrupts) stays quiet when there is nothing to do.
      isEnabled: args => fromKeys(args) || canControl(resolveSession(args)?.state, control),
      execute: args => {
        if (fromKeys(args) && !canControl(resolveSession(args)?.state, control)) {
          return;
        }
        return runControl(control, args);
      }
    });
  }

  commands.addCommand(CommandIDs.rename, {
    label: args => named(args, 'Rename…', 'Rename Agent Session…'),
    caption: 'Give the session another title',
    icon: labIcons.rename,
    isEnabled: args => !!resolveSession(args),
    execute: async args => {
      const s = resolveSession(args);
      if (!s) {
        return;
      }
      const result = await InputDialog.getText({
        title: 'Rename session',
        text: s.title,
        placeholder: 'A title for this session',
        okLabel: 'Rename'
      });
      const title = result.value?.trim();
      if (!result.button.accept || !title || title === s.title) {
        return;
      }
      try {
        const renamed = await api.rename(s.id, title);
        model.set(renamed);
        ctx.findWidget(s.id)?.content.view.updateSession(renamed);
      } catch (err) {
        Notification.error((err as Error).message, { autoClose: 8000 });
      }
    }
  });

  commands.addCommand(CommandIDs.forget, {
    label: args => named(args, 'Forget…', 'Forget Agent Session…'),
    caption: 'Delete a stopped session and its transcript',
    isEnabled: args => {
      const s = resolveSession(args);
      return !!s && (s.state === 'stopped' || s.state === 'failed');
    },
    execute: async args => {
      const id = resolveId(args);
      if (!id) {
        return;
      }
      const name = model.get(id)?.title || 'this session';
      const result = await showDialog({
        title: 'Forget session?',
        body: `Forget “${name}”? Its transcript is deleted from the server. This cannot be undone; files the agent changed stay as they are.`,
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Forget' })]
      });
      if (!result.button.accept) {
        return;
      }
      try {
        await api.forget(id);
        model.remove(id);
        ctx.findWidget(id)?.dispose();
      } catch (err) {
        Notification.error((err as Error).message, { autoClose: 8000 });
      }
    }
  });

  // -- many at once ------------------------------------------------------------------------------
  const bulk = (control: 'pause' | 'stop', id: string, label: string) => {
    const targets = () => model.sessions.filter(s => canControl(s.state, control));
    commands.addCommand(id, {
      label: args => (args.toolbar ? '' : `${label} All Agent Sessions…`),
      caption: args => {
        const n = targets().length;
        return n ? `${label} every ${control === 'pause' ? 'live' : 'running or paused'} session (${n})` : `No session to ${control}`;
      },
      icon: labIcons[`${control}All` as 'pauseAll' | 'stopAll'],
      isEnabled: () => targets().length > 0,
      execute: async () => {
        const chosen = targets();
        if (!chosen.length) {
          return;
        }
        const what =
          control === 'pause'
            ? 'Paused sessions keep their place and free their slots; resume them when you want.'
            : 'Their transcripts are kept and they can be resumed later; files are left as they are.';
        const body = new Widget();
        body.addClass('jp-GlueBulkDialog');
        body.node.append(
          h('p', { text: what }),
          h('ul', {}, ...chosen.map(s => h('li', {}, h('strong', { text: s.title || 'Untitled session' }), ` — ${s.state}`)))
        );
        const confirm = { label: `${label} ${chosen.length}` };
        const result = await showDialog({
          title: `${label} ${chosen.length} session${chosen.length === 1 ? '' : 's'}?`,
          body,
          buttons: [Dialog.cancelButton(), control === 'stop' ? Dialog.warnButton(confirm) : Dialog.okButton(confirm)]
        });
        if (!result.button.accept) {
          return;
        }
        const outcomes = await Promise.allSettled(chosen.map(s => api.control(s.id, control)));
        const failed: string[] = [];
        outcomes.forEach((o, i) => {
          if (o.status === 'fulfilled') {
            model.set(o.value);
          } else {
            failed.push(`${chosen[i].title || 'Untitled session'}: ${(o.reason as Error).message}`);
          }
        });
        if (failed.length) {
          Notification.error(`Could not ${control} ${failed.length} session(s). ${failed.join(' · ')}`, { autoClose: false });
        }
      }
    });
  };
  bulk('pause', CommandIDs.pauseAll, 'Pause');
  bulk('stop', CommandIDs.stopAll, 'Stop');

  // -- inside a session's tab ------------------------------------------------------------------------
  const currentView = (args: Args) => {
    const id = resolveId(args);
    return id ? ctx.findWidget(id)?.content.view : undefined;
  };
  commands.addCommand(CommandIDs.find, {
    label: args => named(args, 'Find', 'Find in Agent Session'),
    caption: 'Find in this transcript',
    icon: labIcons.search,
    isEnabled: args => !!currentView(args),
    execute: args => currentView(args)?.openFind()
  });
  commands.addCommand(CommandIDs.focusComposer, {
    label: 'Focus Agent Session Message Box',
    caption: 'Type the next message to the agent',
    isEnabled: args => !!currentView(args),
    execute: args => currentView(args)?.focusComposer()
  });
  commands.addCommand(CommandIDs.nextNeedingYou, {
    label: 'Next Agent Session Needing You',
    caption: 'Open the next session waiting for you (permission, failure, finished turn)',
    isEnabled: () => ctx.attention.count > 0,
    execute: () => {
      const ids = ctx.attention.ids;
      if (!ids.length) {
        return;
      }
      const current = tracker.currentWidget?.content.sessionId;
      const at = current ? ids.indexOf(current) : -1;
      ctx.open(ids[(at + 1) % ids.length]);
    }
  });
  commands.addCommand(CommandIDs.reconnect, {
    label: 'Reconnect Agent Sessions',
    execute: () => {
      model.reconnect();
      ctx.checkServer();
    }
  });
}

function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? '' : path.slice(0, i);
}
