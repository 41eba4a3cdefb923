/**
 * glue-jupyter: the JupyterLab surface of glue_jupyter.
 *
 * - `glue-jupyter:sessions` — the "Agent sessions" side panel, session tabs (with a toolbar
 *   other extensions can add to: factory "GlueSession", schema/session-toolbar.json), commands
 *   (palette, context menus, shortcuts in schema/sessions.json), the launcher card, "Start Agent
 *   Here" in the file browser, the "needs you" signals (lab/attention.ts) and the transcript
 *   host that notebook widgets in the page use (lab/host.ts).
 * - `glue-jupyter:running` — sessions in JupyterLab's Running panel, with Stop.
 */
import {
  ILabShell,
  ILayoutRestorer,
  IRouter,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IToolbarWidgetRegistry,
  MainAreaWidget,
  Notification,
  WidgetTracker,
  createToolbarFactory,
  setToolbar
} from '@jupyterlab/apputils';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { PageConfig } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { IRunningSessionManagers, IRunningSessions } from '@jupyterlab/running';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { CommandToolbarButton } from '@jupyterlab/ui-components';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { GlueAPI, createLabAPI, isNotFound } from './api';
import { AttentionSignals, NEEDS_YOU_CLASS } from './lab/attention';
import { CommandIDs, ITEM_SELECTOR, addCommands } from './lab/commands';
import { LabHost } from './lab/host';
import { SessionsModel } from './model';
import { agentIcon } from './panel/icons';
import { IPanelView, ISearchHit, SessionsPanel } from './panel/panel';
import { notebookPlugin } from './notebook/plugin';
import { SessionPanel } from './panel/session-panel';
import { IGlueSessions } from './tokens';
import { codeBlockActions } from './transcript/actions';
import { HOST_REQUEST } from './transcript/host';
import { ISession, isLive, stateLabel } from './types';
import { VERSION } from './version';

export { IGlueSessions } from './tokens';
export { CommandIDs } from './lab/commands';

const PLUGIN_ID = 'glue-jupyter:sessions';
const TOOLBAR_PLUGIN_ID = 'glue-jupyter:session-toolbar';
/** Below this window width, opening a session folds the left side panel away. */
const NARROW = 760;
/** The toolbar factory of a session tab; other extensions add items to it. */
export const SESSION_TOOLBAR = 'GlueSession';

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
    if (isNotFound(err)) {
      return (
        'The glue_jupyter server extension is not running on this Jupyter server, so no agent sessions can be ' +
        'shown or started. Install glue_jupyter in the Python environment that runs Jupyter, check that ' +
        '`jupyter server extension list` shows it enabled, then restart Jupyter.'
      );
    }
    return `Could not reach the glue_jupyter server extension: ${(err as Error).message}`;
  }
}

/** The session a clicked "Open live view" link of a snapshot names, if it is one. */
function sessionLink(target: EventTarget | null): string | null {
  const a = (target as HTMLElement | null)?.closest?.('a.glue-open-live, a[href*="glue-session"]') as HTMLAnchorElement | null;
  if (!a) {
    return null;
  }
  const href = decodeURIComponent(a.getAttribute('href') ?? '');
  const id = a.dataset.glueSession || /[?&#]glue-session=([0-9a-f]{32})/.exec(href)?.[1];
  return id && /^[0-9a-f]{32}$/.test(id) ? id : null;
}

/** A session tab's classes: its state, and whether it needs you (style/panel.css draws them). */
function tabClass(s: ISession): string {
  return `jp-GlueTab jp-mod-${s.state}${s.needs_you ? ` ${NEEDS_YOU_CLASS}` : ''}`;
}

const sessionsPlugin: JupyterFrontEndPlugin<IGlueSessions> = {
  id: PLUGIN_ID,
  description: 'The Agent sessions side panel and session views.',
  autoStart: true,
  provides: IGlueSessions,
  optional: [
    ILayoutRestorer,
    ICommandPalette,
    IDefaultFileBrowser,
    ILabShell,
    ISettingRegistry,
    IEditorLanguageRegistry,
    ILauncher,
    IToolbarWidgetRegistry,
    ITranslator,
    IRouter
  ],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    fileBrowser: IDefaultFileBrowser | null,
    labShell: ILabShell | null,
    settingRegistry: ISettingRegistry | null,
    languages: IEditorLanguageRegistry | null,
    launcher: ILauncher | null,
    toolbarRegistry: IToolbarWidgetRegistry | null,
    translator: ITranslator | null,
    router: IRouter | null
  ): IGlueSessions => {
    const { commands, shell } = app;
    const api = createLabAPI(app.serviceManager.serverSettings);
    const model = new SessionsModel(api);
    const serverRoot = PageConfig.getOption('serverRoot') || '';
    const host = new LabHost({ app, languages, serverRoot, codeBlockActions });
    host.listen();
    const tracker = new WidgetTracker<MainAreaWidget<SessionPanel>>({ namespace: 'glue-session' });
    let settings: ISettingRegistry.ISettings | null = null;

    // The tab's toolbar: JupyterLab's toolbar registry, so others (and the user's settings) add to it.
    const toolbarFactory = toolbarRegistry && settingRegistry
      ? createToolbarFactory(toolbarRegistry, settingRegistry, SESSION_TOOLBAR, TOOLBAR_PLUGIN_ID, translator ?? nullTranslator)
      : null;
    const sessionButton = (command: string) => (widget: Widget) =>
      new CommandToolbarButton({
        commands,
        id: command,
        args: { id: (widget as MainAreaWidget<SessionPanel>).content.sessionId, toolbar: true }
      });
    const buttons: [string, string][] = [
      ['interrupt', CommandIDs.interrupt],
      ['pause', CommandIDs.pause],
      ['stop', CommandIDs.stop],
      ['resume', CommandIDs.resume],
      ['find', CommandIDs.find],
      ['rename', CommandIDs.rename]
    ];
    for (const [name, command] of buttons) {
      toolbarRegistry?.addFactory(SESSION_TOOLBAR, name, sessionButton(command));
    }

    const findWidget = (id: string) => tracker.find(w => w.content.sessionId === id);

    const open = (id: string, hit?: ISearchHit): void => {
      let widget = findWidget(id);
      if (!widget) {
        const content = new SessionPanel(api, id, host, open);
        widget = new MainAreaWidget({ content });
        widget.addClass('jp-GlueSessionWidget');
        widget.id = `glue-session-${id}`;
        widget.title.icon = agentIcon;
        widget.title.closable = true;
        if (toolbarFactory) {
          setToolbar(widget, toolbarFactory);
        } else {
          for (const [name, command] of buttons) {
            widget.toolbar.addItem(name, sessionButton(command)(widget));
          }
        }
        const known = model.get(id);
        widget.title.label = known?.title || 'Agent session';
        const w = widget;
        content.view.sessionChanged.connect(s => {
          w.title.label = s.title || 'Agent session';
          w.title.caption = `${s.title || 'Agent session'} — ${stateLabel(s.state)}${s.needs_you ? ', needs you' : ''} · ${s.agent} · ${s.cwd}`;
          w.title.className = tabClass(s);
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
      // A phone-sized window has no room for the side panel beside a session.
      if (labShell && window.innerWidth < NARROW) {
        labShell.collapseLeft();
      }
      if (hit?.query) {
        widget.content.view.revealMatch(hit.query, hit);
      }
    };

    const panel = new SessionsPanel({
      api,
      model,
      open,
      commands,
      serverRoot: serverRoot || undefined,
      currentFolder: () => fileBrowser?.model.path ?? ''
    });
    panel.title.icon = agentIcon;
    panel.title.caption = 'Agent sessions';
    shell.add(panel, 'left', { rank: 450 });
    restorer?.add(panel, 'glue-sessions-panel');
    fileBrowser?.model.pathChanged.connect(() => panel.form.folderChanged());

    const attention = new AttentionSignals({
      api,
      model,
      panelTitle: panel.title,
      open: id => open(id),
      mainWidgets: () => (labShell ? Array.from(labShell.widgets('main')) : []),
      settings: () => settings
    });

    // Sort and grouping follow the user's settings (Settings Editor included) and are saved
    // when the user picks others in the panel; the browser-notification choice is kept there too.
    settingRegistry
      ?.load(PLUGIN_ID)
      .then(loaded => {
        settings = loaded;
        const apply = () => {
          panel.view = loaded.composite as Partial<IPanelView>;
        };
        apply();
        loaded.changed.connect(apply);
        panel.viewChanged.connect(view => {
          for (const key of ['sort', 'group'] as const) {
            if (loaded.get(key).composite !== view[key]) {
              loaded.set(key, view[key]).catch(err => console.warn('glue_jupyter: could not save the panel settings', err));
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
      } else {
        for (const s of model.sessions) {
          findWidget(s.id)?.content.view.updateSession(s);
        }
      }
      app.commands.notifyCommandChanged();
    });
    // A notebook widget's view appears after its session may have asked for the user: mark the
    // notebook's tab once the view is in place, and whenever the main area changes.
    const remark = () => setTimeout(() => attention.refreshMarks(), 0);
    document.addEventListener(HOST_REQUEST, remark);
    labShell?.currentChanged.connect(() => {
      attention.refreshMarks();
      const current = tracker.currentWidget;
      if (current && labShell.currentWidget === current) {
        panel.selected = current.content.sessionId;
      }
    });

    const check = () => void checkServer(api).then(problem => panel.showBanner(problem));
    check();
    model.start();

    addCommands({
      app,
      api,
      model,
      panel,
      tracker,
      attention,
      fileBrowser,
      open,
      findWidget,
      checkServer: check
    });

    if (palette) {
      const category = 'Agent Sessions';
      for (const command of [
        CommandIDs.showPanel,
        CommandIDs.newSession,
        CommandIDs.search,
        CommandIDs.nextNeedingYou,
        CommandIDs.interrupt,
        CommandIDs.pause,
        CommandIDs.stop,
        CommandIDs.resume,
        CommandIDs.rename,
        CommandIDs.find,
        CommandIDs.focusComposer,
        CommandIDs.forget,
        CommandIDs.pauseAll,
        CommandIDs.stopAll,
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
      CommandIDs.rename,
      CommandIDs.forget
    ]) {
      app.contextMenu.addItem({ command, selector: ITEM_SELECTOR, rank: rank++, args: { row: true } });
    }
    app.contextMenu.addItem({ command: CommandIDs.newSession, selector: '.jp-GlueSessionsPanel', rank: 100 });
    if (fileBrowser) {
      app.contextMenu.addItem({ command: CommandIDs.startHere, selector: '.jp-DirListing-content', rank: 3 });
    }
    launcher?.add({ command: CommandIDs.newSession, category: 'Other', rank: 0, args: { launcher: true } });

    // "Open live view" in a notebook's snapshot of a session (`#glue-session=ID`): here, in
    // place; a page opened on `…?glue-session=ID` opens the session once the lab has started.
    document.addEventListener(
      'click',
      ev => {
        const id = sessionLink(ev.target);
        if (id) {
          ev.preventDefault();
          ev.stopPropagation();
          open(id);
        }
      },
      true
    );
    if (router) {
      commands.addCommand(CommandIDs.openFromUrl, {
        execute: args => {
          const id = /[?&]glue-session=([0-9a-f]{32})/.exec(String((args as any).search ?? ''))?.[1];
          if (id) {
            void app.restored.then(() => open(id));
          }
        }
      });
      router.register({ command: CommandIDs.openFromUrl, pattern: /[?&]glue-session=[0-9a-f]{32}/, rank: 90 });
    }

    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.open,
        args: w => ({ id: w.content.sessionId }),
        name: w => w.content.sessionId
      });
    }

    return { api, model, open, codeBlockActions };
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
