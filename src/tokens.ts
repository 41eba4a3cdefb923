import { Token } from '@lumino/coreutils';

import type { GlueAPI } from './client';
import type { SessionsModel } from './model';

/** The live sessions list and API client, for other plugins (e.g. the Running panel). */
export interface IGlueSessions {
  api: GlueAPI;
  model: SessionsModel;
  /** Open a session's transcript in the main area. */
  open(id: string): void;
}

export const IGlueSessions = new Token<IGlueSessions>(
  'glue-jupyter:IGlueSessions',
  'The glue_jupyter agent sessions: API client and live list.'
);
