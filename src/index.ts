/**
 * glue-jupyter: the JupyterLab surface of glue_jupyter.
 *
 * - `glue-jupyter:sessions` — the "Agent sessions" side panel, session views in the
 *   main area, commands (palette + context menu), the server version check; the panel's
 *   sort and grouping are kept in the user's settings (schema/sessions.json).
 * - `glue-jupyter:running` — sessions in JupyterLab's Running panel, with Stop.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  MainAreaWidget,
  Notification,
  WidgetTracker,
  showDialog
} from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { IRunningSessionManagers, IRunningSessions } from '@jupyterlab/running';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Signal } from '@lumino/signaling';

import { GlueAPI, GlueRequestError, createLabAPI } from './api';
import { SessionsModel } from './model';
import { agentIcon } from './panel/icons';
import { IPanelView, SessionsPanel } from './panel/panel';
import { notebookPlugin } from './notebook/plugin';
import { SessionPanel } from './panel/session-panel';
import { IGlueSessions } from './tokens';
import { Control, ISession, canControl, isLive, stateLabel } from './types';
import { VERSION } from './version';

export { IGlueSessions } from './tokens';

export namespace CommandIDs {
  export const showPanel = 'glue:show-panel';
  export const newSession = 'glue:new-session';
  export const search = 'glue:search-sessions';
  export const open = 'glue:open-session';
  export const interrupt = 'glue:interrupt-session';
  export const pause = 'glue:pause-session';
  export const stop = 'glue:stop-session';
  export const resume = 'glue:resume-session';
  export const forget = 'glue:forget-session';
  export const reconnect = 'glue:reconnect';
}

const ITEM_SELECTOR = '.jp-GlueSessionList-item';

/** Compare versions across npm and Python spellings (0.2.0-alpha.1 vs 0.2.0a1). */
export function sameVersion(a: string, b: string): boolean {
  const norm = (v: string) =>
    v
      .trim()
      .toLowerCase()
      .replace(/^v/, '')
      .replace(/[-.]?alpha[.]?/, 'a')
      .replace(/[-.]?beta[.]?/, 'b')
      .replace(/[-.]?rc[.]?/, 'rc')
      .replace(/[-.]?dev[.]?/, '.dev');
  return norm(a) === norm(b);
}

/** Check the server extension before anything else; plain words when it is off. */
async function checkServer(api: GlueAPI): Promise<string | null> {
  try {
    const info = await api.info();
    if (!sameVersion(String(info.version), VERSION)) {
      return (
        `The glue_jupyter server extension is version ${info.version}, but this panel is version ${VERSION}. ` +
        'Reinstall glue_jupyter so both match, restart Jupyter and reload this page.'
      );
    }
    return null;
  } catch (err) {
    if (err instanceof GlueRequestError && err.status === 404) {
      return (
        'The glue_jupyter server extension is not running on this Jupyter server, so no agent sessions can be ' +
        'shown or started. Install glue_jupyter in the Python environment that runs Jupyter, check that ' +
        '`jupyter server extension list` shows it enabled, then restart Jupyter.'
      );
    }
    return `Could not reach the glue_jupyter server extension: ${(err as Error).message}`;
  }
}

const sessionsPlugin: JupyterFrontEndPlugin<IGlueSessions> = {
  id: 'glue-jupyter:sessions',
  description: 'The Agent sessions side panel and session views.',
  autoStart: true,
  provides: IGlueSessions,
  optional: [ILayoutRestorer, ICommandPalette, IDefaultFileBrowser, ILabShell, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    fileBrowser: IDefaultFileBrowser | null,
    labShell: ILabShell | null,
    settingRegistry: ISettingRegistry | null
  ): IGlueSessions => {
    const { commands, shell } = app;
    const api = createLabAPI(app.serviceManager.serverSettings);
    const model = new SessionsModel(api);
    const tracker = new WidgetTracker<MainAreaWidget<SessionPanel>>({ namespace: 'glue-session' });

    const findWidget = (id: string) => tracker.find(w => w.content.sessionId === id);

    const open = (id: string): void => {
      let widget = findWidget(id);
      if (!widget) {
        const content = new SessionPanel(api, id);
        widget = new MainAreaWidget({ content });
        widget.addClass('jp-GlueSessionWidget');
        widget.toolbar.hide();
        widget.id = `glue-session-${id}`;
        widget.title.icon = agentIcon;
        widget.title.closable = true;
        const known = model.get(id);
        widget.title.label = known?.title || 'Agent session';
        const w = widget;
        content.view.sessionChanged.connect(s => {
          w.title.label = s.title || 'Agent session';
          w.title.caption = `${s.title || 'Agent session'} — ${stateLabel(s.state)} · ${s.agent} · ${s.cwd}`;
          w.title.className = `jp-GlueTab jp-mod-${s.state}`;
          model.set(s);
          app.commands.notifyCommandChanged();
        });
        if (known) {
          content.view.updateSession(known);
        }
        void tracker.add(widget);
        shell.add(widget, 'main');
      }
      shell.activateById(widget.id);
      panel.selected = id;
    };

    const panel = new SessionsPanel({
      api,
      model,
      open,
      serverRoot: PageConfig.getOption('serverRoot') || undefined,
      currentFolder: () => fileBrowser?.model.path ?? ''
    });
    panel.title.icon = agentIcon;
    panel.title.caption = 'Agent sessions';
    shell.add(panel, 'left', { rank: 450 });
    restorer?.add(panel, 'glue-sessions-panel');
    fileBrowser?.model.pathChanged.connect(() => panel.form.folderChanged());

    // Sort and grouping follow the user's settings (Settings Editor included) and are saved
    // when the user picks others in the panel.
    settingRegistry
      ?.load(sessionsPlugin.id)
      .then(settings => {
        const apply = () => {
          panel.view = settings.composite as Partial<IPanelView>;
        };
        apply();
        settings.changed.connect(apply);
        panel.viewChanged.connect(view => {
          for (const key of ['sort', 'group'] as const) {
            if (settings.get(key).composite !== view[key]) {
              settings.set(key, view[key]).catch(err => console.warn('glue_jupyter: could not save the panel settings', err));
            }
          }
        });
      })
      .catch(err => console.warn('glue_jupyter: could not load the panel settings', err));

    // Keep open views in step with the list (states change from any surface).
    model.changed.connect(change => {
      if (change.type === 'session') {
        findWidget(change.session.id)?.content.view.updateSession(change.session);
      } else if (change.type === 'forgotten') {
        findWidget(change.id)?.dispose();
      }
      app.commands.notifyCommandChanged();
    });
    labShell?.currentChanged.connect(() => {
      const current = tracker.currentWidget;
      if (current && labShell.currentWidget === current) {
        panel.selected = current.content.sessionId;
      }
    });

    void checkServer(api).then(problem => {
      panel.showBanner(problem);
    });
    model.start();

    // ----- commands -----
    const resolveId = (args: any): string | null => {
      if (args && typeof args.id === 'string' && args.id) {
        return args.id;
      }
      const node = app.contextMenuHitTest(n => n.matches?.(ITEM_SELECTOR));
      if (node?.dataset.sessionId) {
        return node.dataset.sessionId;
      }
      return tracker.currentWidget?.content.sessionId ?? null;
    };
    const resolveSession = (args: any): ISession | null => {
      const id = resolveId(args);
      if (!id) {
        return null;
      }
      return model.get(id) ?? findWidget(id)?.content.session ?? null;
    };

    const runControl = async (control: Control, args: any) => {
      const id = resolveId(args);
      if (!id) {
        return;
      }
      const view = findWidget(id)?.content.view;
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
      label: 'New Agent Session…',
      caption: 'Start a coding agent in a folder',
      icon: args => (args['isPalette'] ? undefined : agentIcon),
      execute: () => {
        shell.activateById(panel.id);
        panel.showForm();
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
      label: args => (args.id ? 'Open Session' : 'Open Agent Session'),
      caption: 'Open the session transcript in the main area',
      isEnabled: args => !!resolveId(args),
      execute: args => {
        const id = resolveId(args);
        if (id) {
          open(id);
        }
      }
    });
    const controlCommand = (control: Control, id: string, label: string, caption: string) => {
      commands.addCommand(id, {
        label: args => (args.id || app.contextMenuHitTest(n => n.matches?.(ITEM_SELECTOR)) ? label : `${label} Agent Session`),
        caption,
        isEnabled: args => canControl(resolveSession(args)?.state, control),
        execute: args => runControl(control, args)
      });
    };
    controlCommand('interrupt', CommandIDs.interrupt, 'Interrupt', 'Cancel the turn in progress');
    controlCommand('pause', CommandIDs.pause, 'Pause', 'Freeze the agent and free its slot');
    controlCommand('stop', CommandIDs.stop, 'Stop', 'End the agent process; the transcript is kept');
    controlCommand('resume', CommandIDs.resume, 'Resume', 'Continue the conversation');
    commands.addCommand(CommandIDs.forget, {
      label: args =>
        args.id || app.contextMenuHitTest(n => n.matches?.(ITEM_SELECTOR)) ? 'Forget…' : 'Forget Agent Session…',
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
        const s = model.get(id);
        const name = s?.title || 'this session';
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
          findWidget(id)?.dispose();
        } catch (err) {
          Notification.error((err as Error).message, { autoClose: 8000 });
        }
      }
    });
    commands.addCommand(CommandIDs.reconnect, {
      label: 'Reconnect Agent Sessions',
      execute: () => {
        model.reconnect();
        void checkServer(api).then(problem => panel.showBanner(problem));
      }
    });

    if (palette) {
      const category = 'Agent Sessions';
      for (const command of [
        CommandIDs.showPanel,
        CommandIDs.newSession,
        CommandIDs.search,
        CommandIDs.interrupt,
        CommandIDs.pause,
        CommandIDs.stop,
        CommandIDs.resume,
        CommandIDs.forget,
        CommandIDs.reconnect
      ]) {
        palette.addItem({ command, category, args: { isPalette: true } });
      }
    }

    let rank = 0;
    for (const command of [
      CommandIDs.open,
      CommandIDs.interrupt,
      CommandIDs.pause,
      CommandIDs.stop,
      CommandIDs.resume,
      CommandIDs.forget
    ]) {
      app.contextMenu.addItem({ command, selector: ITEM_SELECTOR, rank: rank++ });
    }
    app.contextMenu.addItem({ command: CommandIDs.newSession, selector: '.jp-GlueSessionsPanel', rank: 100 });

    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.open,
        args: w => ({ id: w.content.sessionId }),
        name: w => w.content.sessionId
      });
    }

    return { api, model, open };
  }
};

const runningPlugin: JupyterFrontEndPlugin<void> = {
  id: 'glue-jupyter:running',
  description: 'Agent sessions in the Running panel.',
  autoStart: true,
  requires: [IGlueSessions, IRunningSessionManagers],
  activate: (_app: JupyterFrontEnd, glue: IGlueSessions, managers: IRunningSessionManagers) => {
    const changed = new Signal<any, any>(glue);
    let timer: ReturnType<typeof setTimeout> | null = null;
    let lastKey = '';
    glue.model.changed.connect(() => {
      if (timer) {
        return;
      }
      timer = setTimeout(() => {
        timer = null;
        // Only re-render the Running panel when what it shows changed.
        const key = live()
          .map(s => `${s.id}:${s.state}:${s.title}`)
          .join('|');
        if (key !== lastKey) {
          lastKey = key;
          changed.emit(undefined);
        }
      }, 250);
    });
    const live = () =>
      glue.model.sessions
        .filter(s => isLive(s.state) || s.state === 'paused')
        .sort((a, b) => b.updated_at - a.updated_at);
    const stop = async (s: ISession) => {
      try {
        glue.model.set(await glue.api.stop(s.id));
      } catch (err) {
        Notification.error((err as Error).message, { autoClose: 8000 });
      }
    };
    managers.add({
      name: 'Agent Sessions',
      supportsMultipleViews: false,
      running: () =>
        live().map(
          (s): IRunningSessions.IRunningItem => ({
            className: `jp-GlueRunningItem jp-mod-${s.state}`,
            open: () => glue.open(s.id),
            shutdown: () => void stop(s),
            icon: () => agentIcon,
            label: () => s.title || 'Untitled session',
            labelTitle: () => `${stateLabel(s.state)} · ${s.agent} · ${s.cwd}`,
            detail: () => stateLabel(s.state)
          })
        ),
      refreshRunning: () => glue.model.reconnect(),
      runningChanged: changed,
      shutdownAll: () => {
        for (const s of live()) {
          void stop(s);
        }
      },
      shutdownLabel: 'Stop',
      shutdownAllLabel: 'Stop All',
      shutdownAllConfirmationText: 'Stop every agent session? Their transcripts are kept and they can be resumed.'
    } as IRunningSessions.IManager);
  }
};

export default [sessionsPlugin, runningPlugin, notebookPlugin];
