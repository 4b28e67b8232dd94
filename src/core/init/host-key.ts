import fs from 'node:fs';
import { fingerprintOf } from '../crypto/keys.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * The host key an agent pins (`rds init --host-key`): an OpenPGP key or a one-line error
 * (exit 2). What is obviously not the host's public key gets a `warn:` line: a private key
 * (only its public part is pinned; the file should not have left the host), or a key whose
 * user ID is this agent's own.
 */
export async function readHostKey(
  file: string,
  self: { id: string; address: string },
  logger: Logger,
): Promise<{ armored: string; fingerprint: string }> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError('KEY_UNREADABLE', `--host-key: cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`, { cause: error });
  }
  const openpgp = await import('openpgp');
  let key: Awaited<ReturnType<typeof openpgp.readKey>>;
  try {
    key = await openpgp.readKey({ armoredKey: text });
  } catch {
    throw new UsageError(
      'BAD_KEY',
      `--host-key ${file} is not an armored OpenPGP public key; give the file \`rds keys export\` wrote on the host`,
    );
  }
  if (key.isPrivate()) {
    logger.warn('--host-key is a private key: pinning only its public part; keep the private key on the host alone', { file });
  }
  const own = key.users.some((u) => u.userID && (u.userID.email.toLowerCase() === self.address.toLowerCase() || u.userID.name === self.id));
  if (own) logger.warn("--host-key names this agent's own id or address: is it the agent's key instead of the host's?", { file });
  const pub = key.toPublic();
  return { armored: pub.armor(), fingerprint: fingerprintOf(pub) };
}
