/**
 * The key files an agent pass reads, checked at its start as before (a key file that
 * cannot be read or holds no key stops the pass with KEY_UNREADABLE or BAD_KEY, mail or
 * not), without loading openpgp when nothing changed: `STATE/keys-checked.json` records the
 * SHA-256 of each key file openpgp read successfully, and a file whose bytes hash the same
 * passed that check already. Anything else (a changed, missing or unreadable file, a record
 * that is not a regular file of ours with mode 0600, a passphrase-protected private key,
 * whose unlocking is never recorded) gets the full check through keys.ts, with the errors it
 * always gave. Nothing secret is recorded: hashes of files the state dir's owner can read.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { replaceFileSafely } from '../fs/trust.js';

export const KEYS_CHECKED_FILE = 'keys-checked.json';

export interface KeyFile {
  file: string;
  kind: 'public' | 'private';
}

type Record = { [file: string]: { kind: KeyFile['kind']; sha256: string } };

/** The record, when it is a regular file of this user with mode 0600 holding an object; else empty. */
function readRecord(stateDir: string): Record {
  let fd: number;
  try {
    fd = fs.openSync(path.join(stateDir, KEYS_CHECKED_FILE), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return {};
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== process.getuid?.() || (st.mode & 0o777) !== 0o600) return {};
    const value = JSON.parse(fs.readFileSync(fd, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record) : {};
  } catch {
    return {};
  } finally {
    fs.closeSync(fd);
  }
}

function sha256Of(file: string): string | undefined {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/** openpgp's check of one key file (keys.ts, its errors); whether the bytes that passed may be recorded. */
async function fullCheck(key: KeyFile, passphrase: () => string | undefined): Promise<boolean> {
  const keys = await import('./keys.js');
  if (key.kind === 'public') {
    await keys.readPublicKeyFile(key.file);
    return true;
  }
  await keys.readPrivateKeyFile(key.file, passphrase());
  const openpgp = await import('openpgp');
  const raw = await openpgp.readPrivateKey({ armoredKey: fs.readFileSync(key.file, 'utf8') });
  return raw.isDecrypted(); // a protected key is unlocked on every pass, as before
}

/** Check the key files (see above); throws the error a pass reading them with openpgp throws. */
export async function checkKeyFiles(stateDir: string, keys: readonly KeyFile[], passphrase: () => string | undefined): Promise<void> {
  const record = readRecord(stateDir);
  let changed = false;
  for (const key of keys) {
    const before = sha256Of(key.file);
    const seen = record[key.file];
    if (before !== undefined && seen?.kind === key.kind && seen.sha256 === before) continue;
    const recordable = await fullCheck(key, passphrase);
    // record only the bytes that were checked: a file changed meanwhile is checked next time
    if (recordable && before !== undefined && sha256Of(key.file) === before) {
      record[key.file] = { kind: key.kind, sha256: before };
      changed = true;
    } else if (seen) {
      delete record[key.file];
      changed = true;
    }
  }
  if (changed) replaceFileSafely(path.join(stateDir, KEYS_CHECKED_FILE), `${JSON.stringify(record)}\n`, 0o600);
}
