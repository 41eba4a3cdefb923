/**
 * What the composer says about the chosen agent before a session starts — the same words as
 * `jupyter glue agents` and `%glue agents` (glue_jupyter/client/agents_table.py): ready (and
 * how it is signed in), not signed in (and what fixes it), not installed (and what to install),
 * or does not start (and why).
 */
import type { IAgent } from '../types';

export interface IAgentStatus {
  /** ready, not signed in, not installed, does not start, installed */
  word: string;
  level: 'ok' | 'warning' | 'error' | 'info';
  text: string;
}

/** What it can do beyond prompts, in a few words. */
export function abilities(agent: IAgent): string {
  const caps = agent.capabilities;
  if (!caps) {
    return '';
  }
  const words: string[] = [];
  if (caps.load || caps.resume) {
    words.push('native resume');
  }
  if (caps.list) {
    words.push('adopt sessions');
  }
  if (caps.fork) {
    words.push('fork');
  }
  if (caps.prompt.includes('image')) {
    words.push('images');
  }
  if (caps.prompt.includes('embedded_context')) {
    words.push('file context');
  }
  return words.join(', ');
}

export function agentStatus(agent: IAgent): IAgentStatus {
  if (!agent.installed) {
    return {
      word: 'not installed',
      level: 'error',
      text: agent.install_hint ? `Not installed. ${agent.install_hint}` : 'Not installed on the server.'
    };
  }

  if (agent.check && !agent.check.ok) {
    return { word: 'does not start', level: 'error', text: `Does not start: ${agent.check.error ?? 'no answer'}.` };
  }
  const detail = agent.sign_in?.detail ?? '';
  if (agent.signed_in === false) {
    const hint = agent.sign_in?.hint || agent.sign_in_hint || '';
    return { word: 'not signed in', level: 'warning', text: `Not signed in (${detail}). ${hint}`.trim() };
  }
  const can = abilities(agent);
  const parts = agent.version ? [`Version ${agent.version}`] : [];
  if (agent.signed_in === true) {
    parts.push(`signed in: ${detail}`);
  }
  if (can) {
    parts.push(can);
  }
  return { word: agent.signed_in === true ? 'ready' : 'installed', level: agent.signed_in ? 'ok' : 'info', text: parts.join(' · ') };
}
