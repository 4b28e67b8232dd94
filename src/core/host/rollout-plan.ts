/**
 * The rollout plan and the pass decision, pure (docs/rollouts.md): parse `--waves`,
 * `--max-failures`/`--max-timeouts`, `--rate`, `--timeout`, `--retries`; split the selected
 * agents into waves (canary first, then registry order); and, given the agents' states,
 * decide what one `rds rollout advance` pass does to a running rollout. No I/O here: the
 * store (rollout-waves-store.ts) loads the inputs and applies the decision.
 */
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';

export const AGENT_STATES = ['pending', 'sent', 'deferred', 'installed', 'failed', 'timed-out', 'skipped'] as const;
export type AgentState = (typeof AGENT_STATES)[number];
export const FINAL_STATES: ReadonlySet<AgentState> = new Set(['installed', 'failed', 'timed-out', 'skipped']);
export const ROLLOUT_STATES = ['running', 'paused', 'halted', 'aborted', 'done'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
export type FailReason = 'rolled-back' | 'refused' | 'wrong-version' | 'health-check-failed' | 'send-failed';

export const DEFAULT_TIMEOUT = '2h';
export const DEFAULT_RETRIES = 1;
export const DEFAULT_BUDGET = '0';

/** One `--waves` entry: a count of agents or a percent of them, cumulative. */
export type Share = { count: number } | { percent: number };

const SHARE = /^\s*(\d{1,9})\s*$|^\s*(\d{1,3}(?:\.\d+)?)\s*%\s*$/;

function parseShare(text: string, flag: string, whole: string): Share {
  const m = SHARE.exec(text);
  const percent = m?.[2] === undefined ? undefined : Number(m[2]);
  if (m?.[1] !== undefined && Number(m[1]) >= 1) return { count: Number(m[1]) };
  if (percent !== undefined && percent > 0 && percent <= 100) return { percent };
  throw new UsageError('BAD_WAVES', `${flag} '${whole}': '${text}' is not a count (1, 2, …) or a percent (0 < P ≤ 100%)`);
}

/** `1,10%,50%,100%`: cumulative shares, the last 100%. */
export function parseWaves(text: string): Share[] {
  const entries = text.split(',');
  const shares = entries.map((e) => parseShare(e, '--waves', text));
  const last = shares[shares.length - 1];
  if (!last || !('percent' in last) || last.percent !== 100) {
    throw new UsageError('BAD_WAVES', `--waves '${text}': the last wave must be 100% (every selected agent)`);
  }
  return shares;
}

/** A budget as given: a count (`2`) or a percent of the rollout's agents (`10%`), rounded down. */
export function parseBudget(text: string, flag: string): string {
  const m = /^\s*(\d{1,9})\s*$|^\s*(\d{1,3}(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (m?.[1] !== undefined) return String(Number(m[1]));
  if (m?.[2] !== undefined && Number(m[2]) <= 100) return `${Number(m[2])}%`;
  throw new UsageError('BAD_BUDGET', `${flag} '${text}' is not a count (0, 1, …) or a percent (0% … 100%)`);
}

/** The budget in agents for a rollout of `total` agents: a percent rounds down. */
export function resolveBudget(budget: string, total: number): number {
  return budget.endsWith('%') ? Math.floor((Number(budget.slice(0, -1)) * total) / 100 + 1e-9) : Number(budget);
}

export interface Rate {
  count: number;
  windowMs: number;
}

/** `30/m`, `500/h`: at most N update mails per minute or hour. */
export function parseRate(text: string): Rate {
  const m = /^\s*(\d{1,9})\s*\/\s*(m|h)\s*$/.exec(text);
  if (!m || Number(m[1]) < 1) throw new UsageError('BAD_RATE', `--rate '${text}' is not N/m or N/h with N ≥ 1 (e.g. 30/m, 500/h)`);
  return { count: Number(m[1]), windowMs: m[2] === 'm' ? 60_000 : 3_600_000 };
}

export function parseTimeout(text: string): number {
  const ms = parseDuration(text, '--timeout');
  if (ms <= 0) throw new UsageError('BAD_DURATION', `--timeout '${text}' must be longer than 0`);
  return ms;
}

export function parseRetries(text: string): number {
  if (!/^\s*\d{1,3}\s*$/.test(text) || Number(text) > 100)
    throw new UsageError('BAD_RETRIES', `--retries '${text}' is not a count 0 … 100`);
  return Number(text);
}

export interface PlannedAgent {
  agentId: string;
  wave: number;
  position: number;
}

/**
 * The waves: canary agents first (they make up wave 1), then the rest in registry order; the
 * shares cut that order cumulatively (a percent rounds up). Waves that would be empty are
 * dropped, so every wave has at least one agent and every agent is in exactly one wave.
 */
export function planWaves(agentIds: readonly string[], shares: readonly Share[], canary: readonly string[] = []): PlannedAgent[] {
  const selected = new Set(agentIds);
  for (const id of canary) {
    if (!selected.has(id)) throw new UsageError('BAD_CANARY', `--canary '${id}' is not among the selected agents`);
  }
  const canarySet = new Set(canary);
  const order = [...new Set(canary), ...agentIds.filter((id) => !canarySet.has(id))];
  const n = order.length;
  const resolved = shares.map((s) => Math.min(n, 'count' in s ? s.count : Math.ceil((s.percent * n) / 100 - 1e-9)));
  for (let i = 1; i < resolved.length; i++) {
    if ((resolved[i] as number) < (resolved[i - 1] as number)) {
      throw new UsageError('BAD_WAVES', `--waves: each wave is a cumulative share, but wave ${i + 1} reaches fewer agents than wave ${i}`);
    }
  }
  const cuts = [...(canarySet.size > 0 ? [canarySet.size] : []), ...resolved];
  const ends: number[] = [];
  for (const c of cuts) if (c > (ends[ends.length - 1] ?? 0)) ends.push(c);
  if ((ends[ends.length - 1] ?? 0) < n) ends.push(n);
  const out: PlannedAgent[] = [];
  let wave = 0;
  for (const [position, agentId] of order.entries()) {
    while (position >= (ends[wave] as number)) wave++;
    out.push({ agentId, wave: wave + 1, position });
  }
  return out;
}

/** The last wave of a plan (1 for an empty one). */
export const waveCount = (plan: readonly { wave: number }[]): number => plan.reduce((m, a) => Math.max(m, a.wave), 1);

// ---- the pass decision ----------------------------------------------------------------------

export interface PassAgent {
  agentId: string;
  wave: number;
  state: AgentState;
  attempts: number;
  /** ms since the epoch; null while no mail is out (or its re-send is still queued) */
  deadline: number | null;
}

export interface PassInput {
  currentWave: number;
  waves: number;
  /** budgets in agents (resolved), counted from the baselines (what resume accepted) */
  maxFailures: number;
  maxTimeouts: number;
  failureBase: number;
  timeoutBase: number;
  retries: number;
  now: number;
  agents: readonly PassAgent[];
}

export interface Halt {
  budget: 'max-failures' | 'max-timeouts';
  limit: number;
  count: number;
  agents: string[];
}

export interface PassDecision {
  /** silent past the deadline with re-sends left: a version request and a fresh update mail */
  resend: string[];
  /** silent past the deadline with no re-send left */
  timeOut: string[];
  halt?: Halt;
  /** the wave to open (queue) now; undefined: the current one still runs, or halted */
  openWave?: number;
  done: boolean;
}

/**
 * One pass over a running rollout. Silent agents first (re-send or time out), then the
 * budgets (failures before timeouts), then: every agent of the waves so far final → the next
 * wave opens, or, after the last, the rollout is done.
 */
export function decidePass(input: PassInput): PassDecision {
  const resend: string[] = [];
  const timeOut: string[] = [];
  const stateOf = new Map<string, AgentState>();
  for (const a of input.agents) {
    let state = a.state;
    const silent = (state === 'sent' || state === 'deferred') && a.deadline !== null && a.deadline <= input.now;
    if (silent && a.attempts <= input.retries) resend.push(a.agentId);
    else if (silent) {
      timeOut.push(a.agentId);
      state = 'timed-out';
    }
    stateOf.set(a.agentId, state);
  }
  const failed = input.agents.filter((a) => stateOf.get(a.agentId) === 'failed').map((a) => a.agentId);
  const timedOut = input.agents.filter((a) => stateOf.get(a.agentId) === 'timed-out').map((a) => a.agentId);
  const halt =
    failed.length - input.failureBase > input.maxFailures
      ? { budget: 'max-failures' as const, limit: input.maxFailures, count: failed.length - input.failureBase, agents: failed }
      : timedOut.length - input.timeoutBase > input.maxTimeouts
        ? { budget: 'max-timeouts' as const, limit: input.maxTimeouts, count: timedOut.length - input.timeoutBase, agents: timedOut }
        : undefined;
  if (halt) return { resend: [], timeOut, halt, done: false };
  const open = input.agents.filter((a) => a.wave <= input.currentWave);
  const waveFinal = open.every((a) => FINAL_STATES.has(stateOf.get(a.agentId) as AgentState));
  if (!waveFinal) return { resend, timeOut, done: false };
  if (input.currentWave < input.waves) return { resend, timeOut, openWave: input.currentWave + 1, done: false };
  return { resend, timeOut, done: input.agents.every((a) => FINAL_STATES.has(stateOf.get(a.agentId) as AgentState)) };
}

/** An update-result outcome as a rollout state (the version it reports must be the target). */
export function stateOfResult(
  outcome: string,
  reasonCode: string | undefined,
  version: string,
  target: string,
): { state: AgentState; reason: FailReason | null } {
  if (outcome === 'deferred') return { state: 'deferred', reason: null };
  if (outcome === 'installed' || outcome === 'already-installed') {
    return version === target ? { state: 'installed', reason: null } : { state: 'failed', reason: 'wrong-version' };
  }
  if (outcome === 'rolled-back')
    return { state: 'failed', reason: reasonCode === 'HEALTH_CHECK_FAILED' ? 'health-check-failed' : 'rolled-back' };
  return { state: 'failed', reason: 'refused' };
}
