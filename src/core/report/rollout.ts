/**
 * The rollout section's data, behind one adapter function: `rolloutSection` is the only
 * place the report reads rollouts. Today it builds the per-state counts from the rollout
 * store's send status and results; when rollouts have waves and agent states
 * (pending/sent/deferred/installed/failed/timed-out/skipped), this function is the one to
 * switch (fill `waves`, take `counts` from the engine's status) — the page renders whatever
 * states and waves it is given.
 */

import { findRollout, listRollouts, type RolloutAgent, type RolloutSummary, rolloutAgents } from '../host/rollout-store.js';
import type { Db } from '../store/db.js';

export interface StateCount {
  state: string;
  count: number;
}

export interface RolloutSection {
  current: {
    id: string;
    packageId: string;
    targetVersion: string;
    createdAt: string;
    agents: number;
    counts: StateCount[];
    /** per wave, when rollouts have waves (empty until then) */
    waves: { name: string; counts: StateCount[] }[];
  } | null;
  /** every rollout (created at or after `since`), newest first */
  history: RolloutSummary[];
}

/** One agent's state in today's store: its result when it reported one, else its send status. */
export function agentState(a: RolloutAgent): string {
  if (a.result === 'installed') return 'installed';
  if (a.result) return a.result;
  if (a.status === 'sent') return 'sent, no result yet';
  return a.status;
}

const ORDER = ['installed', 'rolled-back', 'refused', 'send-failed', 'sent, no result yet', 'queued'];

export function countStates(states: readonly string[]): StateCount[] {
  const counts = new Map<string, number>();
  for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
  const rank = (s: string) => (ORDER.includes(s) ? ORDER.indexOf(s) : ORDER.length);
  return [...counts]
    .map(([state, count]) => ({ state, count }))
    .sort((a, b) => rank(a.state) - rank(b.state) || a.state.localeCompare(b.state));
}

export function rolloutSection(db: Db, options: { rolloutId?: string; since?: string }): RolloutSection {
  const rollout = findRollout(db, options.rolloutId);
  const history = listRollouts(db).filter((r) => !options.since || r.createdAt >= options.since);
  if (!rollout) return { current: null, history };
  const agents = rolloutAgents(db, rollout.id);
  return {
    current: {
      id: rollout.id,
      packageId: rollout.packageId,
      targetVersion: rollout.targetVersion,
      createdAt: rollout.createdAt,
      agents: agents.length,
      counts: countStates(agents.map(agentState)),
      waves: [],
    },
    history,
  };
}
