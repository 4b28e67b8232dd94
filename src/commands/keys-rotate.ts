import fs from 'node:fs';
import path from 'node:path';
import { readSecret } from '../core/config/config.js';
import { generateKeyPair, writeSecretFile } from '../core/crypto/keys.js';
import { EXIT } from '../core/errors.js';
import { replaceFileSafely } from '../core/fs/trust.js';
import { listAgents } from '../core/host/registry.js';
import { queueMessage } from '../core/message/outgoing.js';
import { KEY_ROTATION } from '../core/protocol/key-rotation.js';
import { openContext } from './context.js';
import { flushAll, mailExitCode, mailLine, summariseMail } from './mail-context.js';
import type { CommandResult, GlobalOptions } from './types.js';

/**
 * Host key rotation: a new key pair, announced to every agent in a message signed by the
 * current key; then the host switches to the new key (the old one is kept, 0600, under
 * keys/retired/ for the record). Packages packed before the rotation must be packed again.
 */
export async function run(_options: unknown, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'keys rotate', { role: 'host', lock: ['keys'] });
  try {
    const oldKey = await ctx.privateKey();
    const passphrase = readSecret(ctx.env.RDS_KEY_PASSPHRASE, ctx.config.keyPassphraseFile, 'key passphrase');
    const pair = await generateKeyPair(ctx.config.id, ctx.config.address, passphrase);
    const self = { id: ctx.config.id, address: ctx.config.address, key: oldKey };
    const agents = listAgents(ctx.db);
    for (const agent of agents) {
      await queueMessage(
        ctx.db,
        self,
        {
          type: KEY_ROTATION,
          toId: agent.id,
          toAddress: agent.address,
          body: { newKey: pair.publicArmored, fingerprint: pair.fingerprint },
          subject: `[rds] host key rotation for ${agent.id}`,
          text: `The host key changes to ${pair.fingerprint}. This message is signed by the previous key.`,
        },
        { clock: ctx.clock, ttlMs: ctx.ttlMs },
      );
    }
    const keysDir = path.dirname(ctx.config.keyFile);
    const retired = path.join(keysDir, 'retired', `private-${oldKey.getFingerprint().toUpperCase()}.asc`);
    writeSecretFile(retired, fs.readFileSync(ctx.config.keyFile));
    writeSecretFile(ctx.config.keyFile, pair.privateArmored);
    replaceFileSafely(path.join(keysDir, 'public.asc'), pair.publicArmored, 0o644);
    const mail = summariseMail(ctx, await flushAll(ctx));
    const text = [
      `new host key ${pair.fingerprint}; the old one is kept in ${retired}`,
      `announcement signed by the old key queued for ${agents.length} agents`,
      mailLine(mail),
      'pack update packages again: packages made before the rotation are encrypted to the old key',
    ]
      .filter(Boolean)
      .join('\n');
    return {
      exitCode: mailExitCode(EXIT.OK, mail),
      data: { fingerprint: pair.fingerprint, agents: agents.length, retired, mail },
      text,
    };
  } finally {
    ctx.close();
  }
}
