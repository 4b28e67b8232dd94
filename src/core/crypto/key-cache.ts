/**
 * Parsed public keys, per process, keyed by the SHA-256 of the key's bytes: a host taking
 * in several mails of one agent parses its key once, not once per mail. Only the bytes
 * decide: a changed key (rotation) is other bytes, so a new entry.
 *
 * The least recently used keys are dropped beyond MAX_ENTRIES: a host checks each mail
 * against its signer's key only (accept-signer.ts), so a pass over 10,000 agents' mail
 * parses each key once whatever the bound, and holds at most this many. 1,000: a parsed key
 * costs ~15 KB of a verify worker's memory (measured: 2,000 held at 10,000 agents' mail was
 * +30 MB of peak RSS over 100 held), so a 10,000-agent pass holds what a 1,000-agent one does.
 */
import * as openpgp from 'openpgp';
import { keyToken } from './key-token.js';

export const MAX_ENTRIES = 1_000;
const parsed = new Map<string, Promise<openpgp.PublicKey>>();

function remember(id: string, read: () => Promise<openpgp.Key>): Promise<openpgp.PublicKey> {
  let found = parsed.get(id);
  if (found) {
    parsed.delete(id); // most recently used: last in the map's order
    parsed.set(id, found);
    return found;
  }
  found = read().then((key) => key.toPublic());
  found.catch(() => parsed.delete(id)); // a key that does not parse is not remembered
  parsed.set(id, found);
  if (parsed.size > MAX_ENTRIES) parsed.delete(parsed.keys().next().value as string);
  return found;
}

/**
 * The key, parsed once per process while it stays among the MAX_ENTRIES last used;
 * `token` is keyToken of the same text or bytes (a verify worker is sent it with the key).
 */
export function cachedKey(key: { armored: string } | { bytes: Uint8Array }, token = keyToken(key)): Promise<openpgp.PublicKey> {
  return remember(token, () =>
    'armored' in key ? openpgp.readKey({ armoredKey: key.armored }) : openpgp.readKey({ binaryKey: key.bytes }),
  );
}

/** The armored public key, parsed once per process (openpgp.readKey, then toPublic). */
export function cachedArmoredKey(armored: string): Promise<openpgp.PublicKey> {
  return cachedKey({ armored });
}

/** The binary (unarmored) public key, parsed once per process. */
export function cachedBinaryKey(bytes: Uint8Array): Promise<openpgp.PublicKey> {
  return cachedKey({ bytes });
}

/** How many keys are held (tests). */
export function cachedKeyCount(): number {
  return parsed.size;
}
