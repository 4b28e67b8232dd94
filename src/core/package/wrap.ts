/**
 * Push-all encrypts once and wraps per agent (docs/formats.md#update-package-rdsu): the package on disk is
 * encrypted to the host's own key; the host recovers the session key from its PKESK and
 * wraps it for each agent (one RFC 9580 §5.1 PKESK packet each, ~100 bytes), put in
 * front of the shared encrypted data. Cost: O(package) + O(agents).
 */
import fs from 'node:fs';
import * as openpgp from 'openpgp';
import { REFUSAL, SecurityError, UsageError } from '../errors.js';
import { sessionKeyPrefixLength } from './packets.js';

export interface SplitPackage {
  /** the session-key packets at the front */
  prefix: Uint8Array;
  /** the encrypted, signed data every recipient shares */
  body: Uint8Array;
}

export function splitPackage(bytes: Uint8Array): SplitPackage {
  const cut = sessionKeyPrefixLength(bytes);
  return { prefix: bytes.subarray(0, cut), body: bytes.subarray(cut) };
}

export interface SessionKey {
  data: Uint8Array;
  algorithm: openpgp.enums.symmetricNames;
}

export async function recoverSessionKey(prefix: Uint8Array, hostKey: openpgp.PrivateKey): Promise<SessionKey> {
  const message = await openpgp.readMessage({ binaryMessage: prefix });
  const keys = await openpgp.decryptSessionKeys({ message, decryptionKeys: hostKey }).catch((error: Error) => {
    throw new UsageError('PACKAGE_NOT_FOR_HOST', `this package was not made by this host's key (${error.message})`, { cause: error });
  });
  const key = keys[0];
  if (!key?.algorithm) throw new UsageError('PACKAGE_NOT_FOR_HOST', 'no session key for this host in the package');
  return { data: key.data, algorithm: key.algorithm as openpgp.enums.symmetricNames };
}

export async function wrapSessionKey(sessionKey: SessionKey, agentKey: openpgp.PublicKey): Promise<Uint8Array> {
  return openpgp.encryptSessionKey({ ...sessionKey, encryptionKeys: agentKey, format: 'binary' }) as Promise<Uint8Array>;
}

/** A package only `agentKey` can open, sharing `body` with every other agent's copy. */
export async function packageForAgent(split: SplitPackage, sessionKey: SessionKey, agentKey: openpgp.PublicKey): Promise<Buffer> {
  const pkesk = await wrapSessionKey(sessionKey, agentKey);
  return Buffer.concat([pkesk, split.body]);
}

export function readPackageFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new UsageError('PACKAGE_UNREADABLE', `cannot read package ${file}: ${(error as NodeJS.ErrnoException).code}`, { cause: error });
  }
}

/** Key ids (hex) a package's session key is wrapped for; empty when there are none. */
export async function packageRecipients(prefix: Uint8Array): Promise<string[]> {
  if (prefix.length === 0) throw new SecurityError(REFUSAL.PACKAGE_NOT_FOR_ME, 'package carries no session key');
  const message = await openpgp.readMessage({ binaryMessage: prefix });
  return message.getEncryptionKeyIDs().map((id) => id.toHex().toLowerCase());
}
