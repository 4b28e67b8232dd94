import { readPublicKeyFile } from '../core/crypto/keys.js';
import { addAgent } from '../core/host/registry.js';
import { openContext } from './context.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(
  options: { id: string; address: string; key: string; note: string },
  globals: GlobalOptions,
): Promise<CommandResult> {
  const key = await readPublicKeyFile(options.key);
  const ctx = await openContext(globals, 'agents add', { role: 'host' });
  try {
    const agent = addAgent(ctx.db, { id: options.id, address: options.address, key, note: options.note }, ctx.clock.now());
    const { publicKey: _omit, ...shown } = agent;
    return { data: shown, text: `registered ${agent.id} <${agent.address}> key ${agent.fingerprint}` };
  } finally {
    ctx.close();
  }
}
