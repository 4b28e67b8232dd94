/**
 * Parsed public keys, per process, keyed by the SHA-256 of the key's bytes: a host taking
 * in 1,000 reports parses each agent's key once, not once per mail (or once per pass and
 * address). Only the bytes decide: a changed key (rotation) is other bytes, so a new entry.
 */
import { createHash } from 'node:crypto';
import * as openpgp from 'openpgp';

const MAX_ENTRIES = 100_000;
const parsed = new Map<string, Promise<openpgp.PublicKey>>();

function remember(id: string, read: () => Promise<openpgp.Key>): Promise<openpgp.PublicKey> {
  let found = parsed.get(id);
  if (!found) {
    if (parsed.size >= MAX_ENTRIES) parsed.clear(); // a bound, not a policy: 100,000 agents' keys
    found = read().then((key) => key.toPublic());
    found.catch(() => parsed.delete(id)); // a key that does not parse is not remembered
    parsed.set(id, found);
  }
  return found;
}

/** The armored public key, parsed once per process (openpgp.readKey, then toPublic). */
export function cachedArmoredKey(armored: string): Promise<openpgp.PublicKey> {
  const id = `a:${createHash('sha256').update(armored).digest('hex')}`;
  return remember(id, () => openpgp.readKey({ armoredKey: armored }));
}

/** The binary (unarmored) public key, parsed once per process. */
export function cachedBinaryKey(bytes: Uint8Array): Promise<openpgp.PublicKey> {
  const id = `b:${createHash('sha256').update(bytes).digest('hex')}`;
  return remember(id, () => openpgp.readKey({ binaryKey: bytes }));
}
