/**
 * The rollout section's data: `rolloutSection` is the only place the report reads
 * rollouts. The agents' rollout states (pending, sent, deferred, installed, failed with
 * its reason, timed-out, skipped) and the waves come from the same status as `rds rollout
 * status` (core/host/rollout-status.ts).
 */

import { AGENT_STATES } from '../host/rollout-plan.js';
import { statusData } from '../host/rollout-status.js';
import { findRollout, listRollouts, type RolloutSummary } from '../host/rollout-store.js';
import { type RolloutAgentState, type RolloutRecord, rolloutAgentStates, rolloutRecord } from '../host/rollout-waves-store.js';
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
    /** running, paused, halted, aborted or done */
    state: string;
    haltReason: string | null;
    agents: number;
    counts: StateCount[];
    /** per wave with its state, when the rollout has more than one */
    waves: { name: string; counts: StateCount[] }[];
  } | null;
  /** every rollout (created at or after `since`), newest first */
  history: RolloutSummary[];
}

/** One agent's state in the rollout, a failure with its reason ("failed (rolled-back)"). */
export function agentState(a: Pick<RolloutAgentState, 'state' | 'reason'>): string {
  return a.reason ? `${a.state} (${a.reason})` : a.state;
}

const rank = (s: string) => {
  const i = (AGENT_STATES as readonly string[]).indexOf(s.split(' ')[0] as string);
  return i === -1 ? AGENT_STATES.length : i;
};

export function countStates(states: readonly string[]): StateCount[] {
  const counts = new Map<string, number>();
  for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts]
    .map(([state, count]) => ({ state, count }))
    .sort((a, b) => rank(a.state) - rank(b.state) || a.state.localeCompare(b.state));
}

export function rolloutSection(db: Db, options: { rolloutId?: string; since?: string }): RolloutSection {
  const rollout = findRollout(db, options.rolloutId);
  const history = listRollouts(db).filter((r) => !options.since || r.createdAt >= options.since);
  if (!rollout) return { current: null, history };
  const record = rolloutRecord(db, rollout.id) as RolloutRecord;
  const agents = rolloutAgentStates(db, rollout.id);
  const status = statusData(record, agents);
  return {
    current: {
      id: rollout.id,
      packageId: rollout.packageId,
      targetVersion: rollout.targetVersion,
      createdAt: rollout.createdAt,
      state: record.state,
      haltReason: record.haltReason ?? null,
      agents: agents.length,
      counts: countStates(agents.map(agentState)),
      waves:
        status.waves.length > 1
          ? status.waves.map((w) => ({
              name: `${w.wave}: ${w.state}`,
              counts: countStates(agents.filter((a) => a.wave === w.wave).map(agentState)),
            }))
          : [],
    },
    history,
  };
}
