import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import * as openpgp from 'openpgp';
import { keyIdsOf } from '../crypto/keys.js';
import { diskFullError, REFUSAL, SecurityError } from '../errors.js';
import { sessionKeyPrefixLength } from './packets.js';
import { packageRecipients } from './wrap.js';

const PREFIX_SCAN_BYTES = 64 * 1024;

function readPrefix(file: string): Uint8Array {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(PREFIX_SCAN_BYTES);
    const n = fs.readSync(fd, buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, n);
    return head.subarray(0, sessionKeyPrefixLength(head));
  } finally {
    fs.closeSync(fd);
  }
}

function classify(error: unknown): SecurityError {
  if (error instanceof SecurityError) return error;
  const message = (error as Error)?.message ?? String(error);
  // the same distinct codes as for mail (verifySignedDataByAny): no signature at all is
  // NOT_SIGNED, a signature by any key but the host's is UNKNOWN_KEY, not a bad signature
  if (/message is not signed/i.test(message)) {
    return new SecurityError(REFUSAL.NOT_SIGNED, `package is not signed: ${message}`, { cause: error });
  }
  if (/could not find signing key/i.test(message)) {
    return new SecurityError(REFUSAL.UNKNOWN_KEY, `package is not signed by the host key: ${message}`, { cause: error });
  }
  if (/signature|signing key|Could not find/i.test(message)) {
    return new SecurityError(REFUSAL.BAD_SIGNATURE, `package signature check failed: ${message}`, { cause: error });
  }
  if (/end of (stream|file)|premature|unexpected end|truncat/i.test(message)) {
    return new SecurityError(REFUSAL.PACKAGE_TRUNCATED, `package is truncated: ${message}`, { cause: error });
  }
  return new SecurityError(REFUSAL.PACKAGE_TAMPERED, `package does not decrypt intact: ${message}`, { cause: error });
}

/** PACKAGE_NOT_FOR_ME unless the package's session key is wrapped for `agentKey` (its PKESKs, `prefix`). */
export async function checkPackageForMe(prefix: Uint8Array, agentKey: openpgp.PrivateKey): Promise<void> {
  const mine = keyIdsOf(agentKey);
  const recipients = await packageRecipients(prefix).catch((error) => {
    throw classify(error);
  });
  if (!recipients.some((id) => mine.has(id))) {
    throw new SecurityError(
      REFUSAL.PACKAGE_NOT_FOR_ME,
      `package is not encrypted for this node's key ${agentKey.getFingerprint().toUpperCase()} (it names key ID(s) ${recipients.map((r) => r.toUpperCase()).join(', ')})`,
    );
  }
}

/**
 * Decrypt a package into `outFile` (the gzip'd tar) and return only once the whole
 * plaintext is on disk and both the integrity check (MDC, RFC 9580 §5.13) and the host's
 * signature verified. The plaintext is streamed to a file the agent owns (mode 0600)
 * instead of being held in memory (a 500 MB module must not need 500 MB of RAM);
 * nothing reads that file before this function returned, so streaming before
 * authentication acts on nothing unverified.
 */
export async function decryptPackage(input: {
  file: string;
  outFile: string;
  agentKey: openpgp.PrivateKey;
  hostKey: openpgp.PublicKey;
}): Promise<void> {
  await checkPackageForMe(readPrefix(input.file), input.agentKey);
  try {
    const message = await openpgp.readMessage({
      binaryMessage: Readable.toWeb(fs.createReadStream(input.file)) as unknown as ReadableStream<Uint8Array>,
    });
    const result = await openpgp.decrypt({
      message,
      decryptionKeys: input.agentKey,
      verificationKeys: input.hostKey,
      expectSigned: true,
      format: 'binary',
      config: { allowUnauthenticatedStream: true },
    });
    await pipeline(
      Readable.fromWeb(result.data as unknown as WebReadableStream<Uint8Array>),
      fs.createWriteStream(input.outFile, { mode: 0o600 }),
    );
    const trusted = keyIdsOf(input.hostKey);
    const byHost = result.signatures.filter((s) => trusted.has(s.keyID.toHex().toLowerCase()));
    if (byHost.length === 0) throw new SecurityError(REFUSAL.UNKNOWN_KEY, 'package is not signed by the host key');
    await Promise.all(byHost.map((s) => s.verified));
  } catch (error) {
    fs.rmSync(input.outFile, { force: true });
    // disk full while writing the plaintext is transient, not a tampered package
    throw diskFullError(error, path.dirname(input.outFile)) ?? classify(error);
  }
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}
