/**
 * The id a public key's text or bytes are cached under (key-cache.ts) and sent to a verify
 * worker with: `a:` (armored) or `b:` (binary) and their SHA-256. Without openpgp: the
 * receive loop names keys before anything parses them.
 */
import { createHash } from 'node:crypto';

export function keyToken(key: { armored: string } | { bytes: Uint8Array }): string {
  return 'armored' in key
    ? `a:${createHash('sha256').update(key.armored).digest('hex')}`
    : `b:${createHash('sha256').update(key.bytes).digest('hex')}`;
}
