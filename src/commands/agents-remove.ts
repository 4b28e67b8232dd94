import { removeAgent } from '../core/host/registry.js';
import { openContext } from './context.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: { args: string[] }, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'agents remove', { role: 'host' });
  try {
    removeAgent(ctx.db, options.args[0] as string);
    return { data: { removed: options.args[0] }, text: `removed ${options.args[0]}` };
  } finally {
    ctx.close();
  }
}
