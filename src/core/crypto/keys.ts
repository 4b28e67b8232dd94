/**
 * Node keys: OpenPGP with the curve25519 "legacy" algorithms (EdDSA signing key + ECDH
 * encryption subkey, RFC 4880bis / RFC 9580 §9.2 legacy ids). The RFC 9580 native
 * Ed25519/X25519 ids are not readable by GnuPG 2.2 (Debian 12), which every agent must be
 * able to use for interop and forensics, so we stay on the legacy ids.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { UsageError } from '../errors.js';
import { replaceFileSafely } from '../fs/trust.js';

export interface KeyPair {
  privateArmored: string;
  publicArmored: string;
  fingerprint: string;
}

export async function generateKeyPair(name: string, email: string, passphrase?: string): Promise<KeyPair> {
  const generate = (userIDs: openpgp.UserID[]) =>
    openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs, format: 'armored', ...(passphrase ? { passphrase } : {}) });
  // openpgp.js refuses addresses without a dotted domain (host@localhost); the user id is
  // only a label, so fall back to the name alone
  const { privateKey, publicKey } = await generate([{ name, email }]).catch(() => generate([{ name: `${name} <${email}>` }]));
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return { privateArmored: privateKey, publicArmored: publicKey, fingerprint: key.getFingerprint().toUpperCase() };
}

/** Write a file that only its owner may read (keys, config with secrets). */
export function writeSecretFile(file: string, content: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  replaceFileSafely(file, content, 0o600);
}

export async function readPublicKey(armored: string, where = 'public key'): Promise<openpgp.PublicKey> {
  try {
    const key = await openpgp.readKey({ armoredKey: armored });
    return key.toPublic();
  } catch (error) {
    throw new UsageError('BAD_KEY', `${where}: not an armored OpenPGP public key (${(error as Error).message})`, {
      cause: error,
    });
  }
}

export async function readPublicKeyFile(file: string): Promise<openpgp.PublicKey> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError('KEY_UNREADABLE', `cannot read key file ${file}: ${(error as NodeJS.ErrnoException).code}`, {
      cause: error,
    });
  }
  return readPublicKey(text, file);
}

/** Read (and, when protected, unlock) this node's private key. */
export async function readPrivateKeyFile(file: string, passphrase?: string): Promise<openpgp.PrivateKey> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError('KEY_UNREADABLE', `cannot read private key ${file}: ${(error as NodeJS.ErrnoException).code}`, {
      cause: error,
    });
  }
  const key = await openpgp.readPrivateKey({ armoredKey: text }).catch((error: Error) => {
    throw new UsageError('BAD_KEY', `${file}: not an armored OpenPGP private key (${error.message})`, { cause: error });
  });
  if (key.isDecrypted()) return key;
  if (!passphrase) {
    throw new UsageError('KEY_PASSPHRASE_MISSING', `${file} is protected: set RDS_KEY_PASSPHRASE or keyPassphraseFile`);
  }
  return openpgp.decryptKey({ privateKey: key, passphrase }).catch((error: Error) => {
    throw new UsageError('KEY_PASSPHRASE_WRONG', `${file}: the passphrase does not unlock this key`, { cause: error });
  });
}

export function fingerprintOf(key: openpgp.Key): string {
  return key.getFingerprint().toUpperCase();
}

/** Every key id (primary and subkeys) of a key, hex, for matching signature issuers. */
export function keyIdsOf(key: openpgp.Key): Set<string> {
  return new Set(key.getKeyIDs().map((id) => id.toHex().toLowerCase()));
}
