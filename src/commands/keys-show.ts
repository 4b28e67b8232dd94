import path from 'node:path';
import { fingerprintOf, readPublicKeyFile } from '../core/crypto/keys.js';
import { showText } from '../core/text/show.js';
import { openContext } from './context.js';
import type { CommandResult, GlobalOptions } from './types.js';

/**
 * This node's key fingerprint (the 40-hex form `rds keys export --json` gives), its role
 * and id; on an agent also the pinned host key: its fingerprint and file.
 */
export async function run(_options: unknown, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'keys show');
  try {
    const { config } = ctx;
    const fingerprint = fingerprintOf(await ctx.publicKey());
    const lines = [`role:              ${config.role}`, `id:                ${showText(config.id)}`, `key fingerprint:   ${fingerprint}`];
    if (config.role !== 'agent') return { data: { role: config.role, id: config.id, fingerprint }, text: lines.join('\n') };
    const file = path.resolve(config.hostKeyFile);
    const hostFingerprint = fingerprintOf(await readPublicKeyFile(file));
    lines.push(`host key (pinned): ${hostFingerprint}`, `host key file:     ${showText(file)}`);
    return {
      data: { role: config.role, id: config.id, fingerprint, hostKey: { fingerprint: hostFingerprint, file } },
      text: lines.join('\n'),
    };
  } finally {
    ctx.close();
  }
}
