import { listAgents } from '../core/host/registry.js';
import { lastHeard } from '../core/service/host-events.js';
import { parseDurationArg } from './args.js';
import { openContext } from './context.js';
import { runServicePass } from './service-pass.js';
import type { OptionsOf } from './specs/define.js';
import type { agentsList } from './specs/fleet.js';
import { formatTable, timeColumn } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: OptionsOf<typeof agentsList>, globals: GlobalOptions): Promise<CommandResult> {
  const silentMs = options.silent === undefined ? undefined : parseDurationArg(options.silent, '--silent');
  const ctx = await openContext(globals, 'agents list', { role: 'host' });
  try {
    if (silentMs === undefined) {
      const agents = listAgents(ctx.db).map(({ publicKey: _omit, ...a }) => a);
      const text = formatTable(
        ['Agent ID', 'Mail address', 'Version', timeColumn('Last version check'), 'Note'],
        agents.map((a) => [a.id, a.address, a.version ?? '-', a.checkedAt, a.note]),
      );
      return { data: { agents }, text };
    }
    await runServicePass(ctx, { alerts: false });
    const heard = new Map(lastHeard(ctx.db).map((h) => [h.agentId, h]));
    const now = ctx.clock.now().getTime();
    const agents = listAgents(ctx.db)
      .map(({ publicKey: _omit, ...a }) => {
        const h = heard.get(a.id);
        return { ...a, lastHeardAt: h?.lastHeardAt ?? null, lastHeardType: h?.lastType ?? null, addedAt: h?.addedAt ?? null };
      })
      // silent: nothing heard for longer than the window (never heard: since it was registered)
      .filter((a) => now - Date.parse(a.lastHeardAt ?? a.addedAt ?? '1970-01-01T00:00:00Z') > silentMs);
    const text =
      agents.length === 0
        ? `no agent silent for more than ${options.silent}`
        : formatTable(
            ['Agent ID', 'Mail address', 'Version', timeColumn('Last heard', { none: 'never' }), 'Note'],
            agents.map((a) => [a.id, a.address, a.version ?? '-', a.lastHeardAt, a.note]),
          );
    return { data: { agents, silentFor: options.silent }, text };
  } finally {
    ctx.close();
  }
}
