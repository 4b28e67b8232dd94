import { UsageError } from '../core/errors.js';
import { AGENT_STATES } from '../core/host/rollout-plan.js';
import { statusData } from '../core/host/rollout-status.js';
import { rolloutAgentStates, rolloutRecord } from '../core/host/rollout-waves-store.js';
import { showText } from '../core/text/show.js';
import { openContext } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { rolloutStatus } from './specs/host.js';
import { formatTable, timeColumn } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

/** `parts: 4 per agent; requests: AGENT0000001 3 (2 answered, 1 not)` (agent ids neutralised). */
function partsText(parts: {
  perAgent: number;
  requests: { agentId: string; requests: number; answered: number; refused: number }[];
}): string {
  const asked = parts.requests.map((q) => `${showText(q.agentId)} ${q.requests} (${q.answered} answered, ${q.refused} not)`);
  return `parts: ${parts.perAgent} per agent; requests: ${asked.length > 0 ? asked.join(', ') : 'none'}`;
}

export async function run(options: OptionsOf<typeof rolloutStatus>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'rollout status', { role: 'host' });
  try {
    const r = rolloutRecord(ctx.db, options.args[0]);
    if (!r) throw new UsageError('NO_ROLLOUT', 'no rollouts yet (rds push-all records one)');
    const agents = rolloutAgentStates(ctx.db, r.id);
    const { rolloutParts } = await import('../core/host/parts-requests.js');
    const parts = rolloutParts(ctx.db, r.id);
    const data = { ...statusData(r, agents), ...(parts ? { parts } : {}) };
    if (globals.json) return { data }; // the table of 10,000 agents is not built to be thrown away
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
    const partsLine = parts ? [partsText(parts)] : [];
    return { data, text: [head, ...halt, ...waves, ...partsLine, table, `agents: ${counts.join(', ')}`].join('\n') };
  } finally {
    ctx.close();
  }
}
