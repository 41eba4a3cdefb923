/**
 * The agent's own session state in words: its mode and model, the usage gauge, a config
 * change. Framework-free (shared by the lab extension and the notebook widget); the text
 * surfaces say the same (glue_jupyter/client/agent_state.py).
 */
import type { IAgentOption, ISession, IUsage } from './types';

/** An option by id, or 'mode'/'model' by category (as the engine resolves them). */
export function findOption(options: IAgentOption[] | undefined, key: string): IAgentOption | undefined {
  const list = options ?? [];
  return (
    list.find(o => o.id === key) ??
    (key === 'mode' || key === 'model' ? list.find(o => o.category === key) : undefined)
  );
}

export function choiceName(option: IAgentOption, value: string | boolean): string {
  if (option.type === 'boolean') {
    return value ? 'on' : 'off';
  }
  return option.choices.find(c => c.value === value)?.name ?? String(value);
}

/** "Plan · Demo Fast": the mode and model by name, or ''. */
export function setupText(session: ISession): string {
  const names: string[] = [];
  for (const key of ['mode', 'model']) {
    const option = findOption(session.config, key);
    if (option && option.type === 'select') {
      names.push(choiceName(option, option.value));
    }
  }
  return names.join(' · ');
}

/** 12, 950, 1.2k, 31k, 128k, 1M, 1.2M: a token count at a glance. */
export function formatTokens(count: number | null | undefined): string {
  if (count === null || count === undefined) {
    return '?';
  }
  const trim = (x: number) => x.toFixed(1).replace(/\.0$/, '');
  if (count < 1000) {
    return String(count);
  }
  if (count < 1_000_000) {
    return count >= 10_000 ? `${Math.round(count / 1000)}k` : `${trim(count / 1000)}k`;
  }
  return `${trim(count / 1_000_000)}M`;
}

export function formatCost(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined) {
    return '';
  }
  if ((currency ?? 'USD') === 'USD') {
    return amount >= 0.01 || amount === 0 ? `$${amount.toFixed(2)}` : '<$0.01';
  }
  return `${amount.toFixed(2)} ${currency}`;
}

/** The share of the context window used, 0..1, or null when unknown. */
export function contextShare(usage: IUsage | null | undefined): number | null {
  if (!usage || usage.context_used === null || !usage.context_size) {
    return null;
  }
  return Math.min(1, usage.context_used / usage.context_size);
}

/** "31k of 200k (16%) · $0.42", or '' when the agent reported nothing. */
export function gaugeText(usage: IUsage | null | undefined): string {
  if (!usage) {
    return '';
  }
  const parts: string[] = [];
  const share = contextShare(usage);
  if (share !== null) {
    parts.push(`${formatTokens(usage.context_used)} of ${formatTokens(usage.context_size)} (${Math.round(share * 100)}%)`);
  } else if (usage.total_tokens) {
    parts.push(`${formatTokens(usage.total_tokens)} tokens`);
  }
  const cost = formatCost(usage.cost, usage.currency);
  if (cost) {
    parts.push(cost);
  }
  return parts.join(' · ');
}

/** Every figure, one per line: the gauge's tooltip. */
export function usageDetails(usage: IUsage): string {
  const lines: string[] = [];
  if (usage.context_used !== null && usage.context_size) {
    lines.push(
      `Context: ${usage.context_used.toLocaleString()} of ${usage.context_size.toLocaleString()} tokens`
    );
  }
  const cost = formatCost(usage.cost, usage.currency);
  if (cost) {
    lines.push(`Cost so far: ${cost}`);
  }
  const tokens: [string, number][] = [
    ['input', usage.input_tokens],
    ['output', usage.output_tokens],
    ['thinking', usage.thought_tokens],
    ['cache read', usage.cached_read_tokens],
    ['cache write', usage.cached_write_tokens]
  ];
  const counted = tokens.filter(([, n]) => n);
  if (counted.length) {
    lines.push(`Tokens this session: ${counted.map(([what, n]) => `${n.toLocaleString()} ${what}`).join(', ')}`);
  }
  return lines.join('\n');
}

const BY: Record<string, string> = {
  user: 'by you',
  agent: 'by the agent',
  resume: 'restored after the resume',
  policy: 'by glue, for the permission policy'
};

/** A `config_change` event in words: "Mode set to Plan (by you)". */
export function changeText(data: any): string {
  const name = String(data?.name ?? data?.option ?? 'An option');
  const value = String(data?.value_name ?? data?.value ?? '');
  if (data?.pending) {
    return `${name} will be ${value} when the session resumes`;
  }
  const by = BY[String(data?.by)] ?? (data?.by ? `by ${data.by}` : '');
  return `${name} set to ${value}${by ? ` (${by})` : ''}`;
}
