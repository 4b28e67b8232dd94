import { listRollouts } from '../core/host/rollout-store.js';
import { showText } from '../core/text/show.js';
import { openContext } from './context.js';
import { formatTable, timeColumn } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(_options: unknown, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'rollouts', { role: 'host' });
  try {
    const rollouts = listRollouts(ctx.db);
    const text =
      rollouts.length === 0
        ? 'no rollouts yet (rds push-all records one)'
        : formatTable(
            ['Rollout', 'Package', 'Target', timeColumn('Created'), 'Agents', 'Sent', 'Installed', 'Failed', 'Pending'],
            rollouts.map((r) => [
              showText(r.id),
              showText(r.packageId),
              showText(r.targetVersion),
              r.createdAt,
              String(r.agents),
              String(r.sent),
              String(r.installed),
              String(r.failed),
              String(r.pending),
            ]),
          );
    return { data: { rollouts }, text };
  } finally {
    ctx.close();
  }
}
