import fs from 'node:fs';
import path from 'node:path';
import { readPublicKeyFile } from '../core/crypto/keys.js';
import { addAgent } from '../core/host/registry.js';
import { type Context, openContext } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { agentsAdd } from './specs/fleet.js';
import type { CommandResult, GlobalOptions } from './types.js';

/** The host key's fingerprint (40 hex): from keys/public.asc next to the private key, else the private key. */
export async function hostFingerprint(ctx: Context): Promise<string> {
  const publicFile = path.join(path.dirname(ctx.config.keyFile), 'public.asc');
  if (fs.existsSync(publicFile)) {
    try {
      return (await readPublicKeyFile(publicFile)).getFingerprint().toUpperCase();
    } catch {
      // unreadable or damaged: the private key says it too
    }
  }
  return (await ctx.publicKey()).getFingerprint().toUpperCase();
}

export async function run(options: OptionsOf<typeof agentsAdd>, globals: GlobalOptions): Promise<CommandResult> {
  const key = await readPublicKeyFile(options.key);
  const ctx = await openContext(globals, 'agents add', { role: 'host' });
  try {
    const agent = addAgent(
      ctx.db,
      { id: options.id, address: options.address, key, note: options.note },
      ctx.clock.now(),
      await hostFingerprint(ctx),
    );
    const { publicKey: _omit, ...shown } = agent;
    return { data: shown, text: `registered ${agent.id} <${agent.address}> key ${agent.fingerprint}` };
  } finally {
    ctx.close();
  }
}
