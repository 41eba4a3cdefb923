import { Token } from '@lumino/coreutils';

import type { GlueAPI } from './client';
import type { SessionsModel } from './model';
import type { CodeBlockActions } from './transcript/actions';

/** The live sessions list and API client, for other plugins (e.g. the Running panel). */
export interface IGlueSessions {
  api: GlueAPI;
  model: SessionsModel;
  /** Open a session's transcript in the main area. */
  open(id: string): void;
  /**
   * Actions on code blocks in every transcript of the page (the lab's session tabs and the
   * notebook widgets in it): `codeBlockActions.add({id, label, run({code, language, sessionId})})`.
   */
  codeBlockActions: CodeBlockActions;
}

export const IGlueSessions = new Token<IGlueSessions>(
  'glue-jupyter:IGlueSessions',
  'The glue_jupyter agent sessions: API client, live list, code-block actions.'
);
