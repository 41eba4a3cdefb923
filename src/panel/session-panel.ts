/** The main-area view of one session: the shared SessionView in a Lumino widget. */
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { GlueAPI } from '../client';
import { ITranscriptHost } from '../transcript/host';
import { SessionView } from '../transcript/session-view';
import type { ISession } from '../types';

export class SessionPanel extends Widget {
  readonly view: SessionView;

  constructor(api: GlueAPI, sessionId: string, host: ITranscriptHost, openSession?: (id: string) => void) {
    super();
    this.addClass('jp-GlueSessionPanel');
    // The controls live in JupyterLab's toolbar of the tab (the "GlueSession" toolbar).
    this.view = new SessionView({ api, sessionId, host, controls: 'none', openSession });
    this.node.appendChild(this.view.node);
  }

  get sessionId(): string {
    return this.view.sessionId;
  }

  get session(): ISession | null {
    return this.view.session;
  }

  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    this.view.focusComposer();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.view.transcript.flushNow();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.view.dispose();
    super.dispose();
  }
}
