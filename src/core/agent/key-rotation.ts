import fs from 'node:fs';
import path from 'node:path';
import { readPublicKey } from '../crypto/keys.js';
import { REFUSAL, SecurityError } from '../errors.js';
import { replaceFileSafely } from '../fs/trust.js';
import type { Handler } from '../message/inbound.js';
import { bodyHandler } from '../protocol/index.js';
import { KEY_ROTATION } from '../protocol/key-rotation.js';
import type { AgentHandlerContext } from './handlers.js';

/**
 * key-rotation (host → agent): a new host key, announced in a message signed by the
 * current (pinned) one. The agent re-pins atomically; from then on a message signed by the
 * old key is refused as UNKNOWN_KEY. A stolen old key cannot rotate to an attacker's key
 * without the agent noticing only if the operator also re-pins out of band: see
 * SECURITY.md ("lost or stolen host key").
 */
export function handleKeyRotation(ctx: AgentHandlerContext): Handler {
  return bodyHandler(KEY_ROTATION, ctx.clock, async ({ newKey, fingerprint }) => {
    let key: Awaited<ReturnType<typeof readPublicKey>>;
    try {
      key = await readPublicKey(newKey, 'announced host key');
    } catch {
      throw new SecurityError(REFUSAL.MALFORMED, 'key rotation carries no readable public key');
    }
    if (key.getFingerprint().toUpperCase() !== fingerprint.toUpperCase()) {
      throw new SecurityError(REFUSAL.MALFORMED, 'key rotation: the fingerprint does not match the announced key');
    }
    const file = ctx.config.hostKeyFile;
    const retired = path.join(path.dirname(file), `host-retired-${ctx.hostKey.getFingerprint().toUpperCase().slice(-16)}.asc`);
    replaceFileSafely(retired, fs.readFileSync(file), 0o644);
    replaceFileSafely(file, key.armor(), 0o644);
    ctx.hostKey = key; // later messages of this same pass are checked against the new key
    ctx.logger.warn('host key rotated', { fingerprint: fingerprint.toUpperCase() });
    return `re-pinned ${fingerprint.toUpperCase()}`;
  });
}
