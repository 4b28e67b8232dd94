import { listAgents } from '../core/host/registry.js';
import { openContext } from './context.js';
import { formatTable, formatTime } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(_options: unknown, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'agents list', { role: 'host' });
  try {
    const agents = listAgents(ctx.db).map(({ publicKey: _omit, ...a }) => a);
    const text = formatTable(
      ['Agent ID', 'Mail address', 'Version', 'Last version check', 'Note'],
      agents.map((a) => [a.id, a.address, a.version ?? '-', formatTime(a.checkedAt), a.note]),
    );
    return { data: { agents }, text };
  } finally {
    ctx.close();
  }
}
