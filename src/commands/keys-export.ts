import { openContext } from './context.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(_options: unknown, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'keys export');
  try {
    const key = await ctx.publicKey();
    const armored = key.armor();
    return { data: { id: ctx.config.id, fingerprint: key.getFingerprint().toUpperCase(), publicKey: armored }, text: armored };
  } finally {
    ctx.close();
  }
}
