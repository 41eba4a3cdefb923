/**
 * Send a prompt with context to "the notebook's session": the one started from it that was
 * active last (resumed with the prompt if it is paused, stopped or failed), or a new one
 * started from it when it has none.
 */
import { GlueAPI } from '../client';
import { sortSessions } from '../model';
import { IContextBlock, ISession, sendAction } from '../types';

export interface INotebookPrompt {
  /** The notebook, absolute on the server. */
  notebook: string;
  /** Its folder, where a new session starts. */
  cwd: string;
  text: string;
  context: IContextBlock[];
  /** Agent for a new session, when the notebook has none. */
  agent: () => Promise<string>;
}

export async function promptNotebookSession(api: GlueAPI, prompt: INotebookPrompt): Promise<ISession> {
  const sessions = sortSessions(await api.listSessions({ notebook: prompt.notebook }), 'activity');
  const session = sessions.find(s => s.state !== 'stopping');
  if (!session) {
    return api.createSession({
      agent: await prompt.agent(),
      cwd: prompt.cwd,
      prompt: prompt.text,
      context: prompt.context,
      notebook: prompt.notebook
    });
  }
  const action = sendAction(session.state);
  if (action === 'prompt' || action === 'queue') {
    return api.prompt(session.id, prompt.text, prompt.context); // while a turn runs: queued
  }
  if (action === 'resume') {
    return api.resume(session.id, prompt.text, prompt.context);
  }
  throw new Error(
    `The notebook's session “${session.title || session.id.slice(0, 8)}” is ${session.state}: ` +
      'wait for its turn to end (or interrupt it), then ask again.'
  );
}

/** The agent a new session gets: the one used last, else the first installed one. */
export async function defaultAgent(api: GlueAPI, sessions: ISession[]): Promise<string> {
  const recent = sortSessions(sessions, 'activity')[0];
  if (recent) {
    return recent.agent;
  }
  const agents = await api.agents();
  const installed = agents.filter(a => a.installed);
  return (installed.find(a => a.name !== 'demo') ?? installed[0] ?? agents[0]).name;
}
