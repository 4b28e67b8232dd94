/**
 * Where a rollout stands, per wave and per agent, as `rds rollout status --json` prints it
 * (docs/rollouts.md#rollout-status) and `rds report` shows it.
 */
import { AGENT_STATES, FINAL_STATES } from './rollout-plan.js';
import type { RolloutAgentState, RolloutRecord } from './rollout-waves-store.js';

/** A wave's state: done (every agent final), pending (not opened), else the rollout's. */
function waveState(r: RolloutRecord, wave: number, agents: RolloutAgentState[]): string {
  if (agents.every((a) => a.state === 'skipped')) return 'skipped';
  if (agents.every((a) => FINAL_STATES.has(a.state))) return 'done';
  if (wave > r.currentWave) return 'pending';
  return r.state;
}

/** `rds rollout status --json` (docs/rollouts.md#rollout-status). */
export function statusData(r: RolloutRecord, agents: RolloutAgentState[]) {
  const counts = Object.fromEntries(AGENT_STATES.map((s) => [s, 0])) as Record<string, number>;
  for (const a of agents) counts[a.state] = (counts[a.state] ?? 0) + 1;
  return {
    rollout: r.id,
    target: r.targetVersion,
    state: r.state,
    ...(r.haltReason ? { haltReason: r.haltReason } : {}),
    waves: Array.from({ length: r.waves }, (_, i) => {
      const members = agents.filter((a) => a.wave === i + 1);
      return { wave: i + 1, agents: members.length, state: waveState(r, i + 1, members) };
    }),
    counts,
    agents: agents.map((a) => ({
      agentId: a.agentId,
      wave: a.wave,
      state: a.state,
      reason: a.reason,
      attempts: a.attempts,
      sentAt: a.sentAt,
      reportedAt: a.reportedAt,
    })),
  };
}
