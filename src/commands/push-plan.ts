/** push-all's rollout flags (docs/rollouts.md): parsed into the plan, and the plan as text. */
import { UsageError } from '../core/errors.js';
import type { PushInput, PushResult } from '../core/host/push-all.js';
import { parseBudget, parseRate, parseRetries, parseTimeout, parseWaves } from '../core/host/rollout-plan.js';
import { DEFAULT_SETTINGS } from '../core/host/rollout-waves-store.js';
import type { PushOptions } from './push-all.js';

const ROLLOUT_FLAGS = ['waves', 'canary', 'maxFailures', 'maxTimeouts', 'timeout', 'retries', 'rate'] as const;

/** The plan of a new rollout from the flags; every bad value is a usage error naming its flag. */
export function pushPlan(options: PushOptions): PushInput['plan'] {
  const given = ROLLOUT_FLAGS.filter((f) => options[f] !== undefined);
  if (options.retryFailed && given.length > 0) {
    const flag = `--${(given[0] as string).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UsageError('BAD_FLAGS', `${flag} shapes a new rollout; --retry-failed re-sends within the one it names`);
  }
  const rate = options.rate === undefined ? undefined : parseRate(options.rate);
  const canary = options.canary === undefined ? [] : options.canary.split(',').map((s) => s.trim());
  if (canary.some((c) => c === '')) throw new UsageError('BAD_CANARY', `--canary '${options.canary}': an empty agent id`);
  return {
    shares: parseWaves(options.waves ?? '100%'),
    canary,
    settings: {
      ...DEFAULT_SETTINGS,
      maxFailures: options.maxFailures === undefined ? DEFAULT_SETTINGS.maxFailures : parseBudget(options.maxFailures, '--max-failures'),
      maxTimeouts: options.maxTimeouts === undefined ? DEFAULT_SETTINGS.maxTimeouts : parseBudget(options.maxTimeouts, '--max-timeouts'),
      timeoutMs: options.timeout === undefined ? DEFAULT_SETTINGS.timeoutMs : parseTimeout(options.timeout),
      retries: options.retries === undefined ? DEFAULT_SETTINGS.retries : parseRetries(options.retries),
      rate: options.rate === undefined ? null : options.rate.replace(/\s/g, ''),
    },
    ...(rate ? { rate } : {}),
  };
}

/** `--dry-run`: per wave its agents, update mails and bytes, then the totals. */
export function planLines(result: PushResult): string[] {
  const plan = result.plan ?? [];
  const lines = plan.map(
    (w) =>
      `wave ${w.wave}: ${w.agents.length} agent${w.agents.length === 1 ? '' : 's'} (${w.agents.join(', ')}), ${w.mails} update mail${w.mails === 1 ? '' : 's'}, about ${w.bytes} bytes`,
  );
  const mails = plan.reduce((n, w) => n + w.mails, 0);
  const bytes = plan.reduce((n, w) => n + w.bytes, 0);
  const parts = result.parts
    ? [
        `in parts: ${result.parts.perAgent} part mails per agent (parts of ${result.parts.partSize} bytes, each mail at most ${result.parts.mailLimit} bytes), at most ${result.parts.agentBytes} bytes per agent`,
      ]
    : [];
  return [
    ...lines,
    ...parts,
    `in all: ${plan.length} wave${plan.length === 1 ? '' : 's'}, ${mails} update mails, about ${bytes} bytes; nothing sent`,
  ];
}

/** With one wave push-all's JSON is as it was before waves (no `waves`, no `wave` per agent). */
export function pushData(result: PushResult): unknown {
  if (result.dryRun || result.waves > 1) return result;
  const { waves: _waves, plan: _plan, ...rest } = result;
  return { ...rest, agents: rest.agents.map(({ wave: _wave, ...a }) => a) };
}
