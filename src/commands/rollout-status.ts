import { UsageError } from '../core/errors.js';
import { AGENT_STATES, FINAL_STATES } from '../core/host/rollout-plan.js';
import { type RolloutAgentState, type RolloutRecord, rolloutAgentStates, rolloutRecord } from '../core/host/rollout-waves-store.js';
import { showText } from '../core/text/show.js';
import { openContext } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { rolloutStatus } from './specs/host.js';
import { formatTable, timeColumn } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

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

export async function run(options: OptionsOf<typeof rolloutStatus>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'rollout status', { role: 'host' });
  try {
    const r = rolloutRecord(ctx.db, options.args[0]);
    if (!r) throw new UsageError('NO_ROLLOUT', 'no rollouts yet (rds push-all records one)');
    const agents = rolloutAgentStates(ctx.db, r.id);
    const data = statusData(r, agents);
    const table = formatTable(
      ['Agent ID', 'Mail address', 'Version', timeColumn('Last version check'), 'Note', 'Wave', 'State'],
      agents.map((a) => [
        showText(a.agentId),
        showText(a.address ?? '-'),
        showText(a.version ?? '-'),
        a.checkedAt,
        showText(a.note),
        String(a.wave),
        a.reason ? `${a.state} (${a.reason})` : a.state,
      ]),
    );
    const head = `rollout ${showText(r.id)}: update to ${showText(r.targetVersion)}, ${r.state}, wave ${r.currentWave} of ${r.waves}`;
    const halt = r.haltReason ? [`halted: ${showText(r.haltReason)}`] : [];
    const waves = data.waves.map((w) => `wave ${w.wave}: ${w.agents} agent${w.agents === 1 ? '' : 's'}, ${w.state}`);
    const counts = AGENT_STATES.filter((s) => (data.counts[s] ?? 0) > 0).map((s) => `${data.counts[s]} ${s}`);
    return { data, text: [head, ...halt, ...waves, table, `agents: ${counts.join(', ')}`].join('\n') };
  } finally {
    ctx.close();
  }
}
