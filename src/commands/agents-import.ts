import { importAgents, readImportFile, readImportKeys } from '../core/host/agents-import.js';
import { hostFingerprint } from './agents-add.js';
import { openContext } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { agentsImport } from './specs/fleet.js';
import type { CommandResult, GlobalOptions } from './types.js';

/** `rds agents import FILE`: all the file's agents or none (src/core/host/agents-import.ts). */
export async function run(options: OptionsOf<typeof agentsImport>, globals: GlobalOptions): Promise<CommandResult> {
  const file = options.args[0] as string;
  const rows = readImportFile(file);
  const ctx = await openContext(globals, 'agents import', { role: 'host' });
  try {
    const keys = await readImportKeys(rows);
    const { added, skipped } = importAgents(ctx.db, rows, keys, {
      file,
      clock: ctx.clock,
      hostFingerprint: await hostFingerprint(ctx),
    });
    return {
      data: { added, skipped },
      text: `imported ${added.length} agents${skipped.length > 0 ? `, ${skipped.length} already registered` : ''}`,
    };
  } finally {
    ctx.close();
  }
}
