import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as openpgp from 'openpgp';
import { keyIdsOf } from '../crypto/keys.js';
import { diskFullError, REFUSAL, SecurityError } from '../errors.js';
import { collectGarbage, youngGarbageEvery } from './memory.js';
import { sessionKeyPrefixLength } from './packets.js';
import { isFastSeipd, SeipdReader } from './seipd.js';
import { type PackageInput, type PackageSource, packageSource } from './source.js';
import { packageRecipients, type SessionKey } from './wrap.js';

const PREFIX_SCAN_BYTES = 64 * 1024;
/** plaintext between two young-generation collections (memory.ts): the stream's chunks freed as it goes */
const YOUNG_GC_BYTES = 4 * 1024 * 1024;

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

/** A web stream (what openpgp.js reads) pulling one chunk at a time: no read-ahead beyond one chunk. */
function pullStream(next: () => Promise<Buffer | null>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const chunk = await next();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
    },
    { highWaterMark: 1 },
  );
}

type Opened = openpgp.DecryptMessageResult | openpgp.VerifyMessageResult;

/**
 * The session key, when the encrypted data after the session-key packets (`head` from
 * `cut`) is a body seipd.ts decrypts; undefined sends the package the old way, through
 * openpgp.decrypt, which gives its own verdict on anything unusual (no key, two keys,
 * v2/AEAD, another cipher).
 */
async function fastSessionKey(head: Uint8Array, cut: number, agentKey: openpgp.PrivateKey): Promise<SessionKey | undefined> {
  const message = await openpgp.readMessage({ binaryMessage: head.subarray(0, cut) });
  const keys = await openpgp.decryptSessionKeys({ message, decryptionKeys: agentKey }).catch(() => []);
  const key = keys.length === 1 ? keys[0] : undefined;
  if (!key || !isFastSeipd(head, cut, key.algorithm, key.data.length)) return undefined;
  return { data: key.data, algorithm: key.algorithm as openpgp.enums.symmetricNames };
}

/** Which way decryptPackage opens `file` for `agentKey`: Node's crypto (seipd.ts) or openpgp.decrypt. */
export async function decryptionRoute(file: PackageInput, agentKey: openpgp.PrivateKey): Promise<'node-crypto' | 'openpgp'> {
  const head = packageSource(file).head(PREFIX_SCAN_BYTES);
  return (await fastSessionKey(head, sessionKeyPrefixLength(head), agentKey)) ? 'node-crypto' : 'openpgp';
}

/** The inner message (seipd.ts) handed to openpgp.js, which checks the signature as openpgp.decrypt would. */
async function openInner(reader: SeipdReader, hostKey: openpgp.PublicKey): Promise<Opened> {
  const message = await openpgp.readMessage({ binaryMessage: pullStream(() => reader.read()) });
  return openpgp.verify({ message, verificationKeys: hostKey, expectSigned: true, format: 'binary' });
}

/** The whole package through openpgp.js. */
async function openWhole(source: PackageSource, agentKey: openpgp.PrivateKey, hostKey: openpgp.PublicKey): Promise<Opened> {
  const chunks = source.chunks(0, false);
  const message = await openpgp.readMessage({ binaryMessage: pullStream(async () => (await chunks.next()).value ?? null) });
  return openpgp.decrypt({
    message,
    decryptionKeys: agentKey,
    verificationKeys: hostKey,
    expectSigned: true,
    format: 'binary',
    config: { allowUnauthenticatedStream: true },
  });
}

/** The signature by the host, once the plaintext was read to its end. */
async function checkSignedByHost(opened: Opened, hostKey: openpgp.PublicKey): Promise<void> {
  const trusted = keyIdsOf(hostKey);
  const byHost = opened.signatures.filter((s) => trusted.has(s.keyID.toHex().toLowerCase()));
  if (byHost.length === 0) throw new SecurityError(REFUSAL.UNKNOWN_KEY, 'package is not signed by the host key');
  await Promise.all(byHost.map((s) => s.verified));
}

/** What the plaintext is handed to, chunk by chunk, as it is decrypted (a chunk is the sink's to keep). */
export type PlainSink = (chunk: Buffer) => Promise<void> | void;

export interface DecryptInput {
  file: PackageInput;
  agentKey: openpgp.PrivateKey;
  hostKey: openpgp.PublicKey;
}

/**
 * Decrypt a package, handing its plaintext (the gzip'd tar) to `sink` as it is decrypted,
 * and return its length only once the whole package was read and both the integrity check
 * (MDC, RFC 9580 §5.13) and the host's signature verified. The sink sees unauthenticated
 * bytes: it must act on nothing until this function returned (the caller drops what it made
 * of them when it throws). When the sink fails (throws) it is given no more, the package is
 * still read to its end, and the package's own verdict comes first: the sink's error is
 * thrown only for a package that decrypted intact and signed. A v1 SEIPD body under AES is
 * decrypted with Node's crypto (seipd.ts), openpgp.js unwrapping the session key and
 * checking the signature; any other body goes through openpgp.decrypt. When anything
 * fails, the integrity verdict comes first: a body whose MDC does not match is
 * PACKAGE_TAMPERED whatever the signature layer said about its garbled plaintext.
 */
export async function decryptThrough(input: DecryptInput, sink: PlainSink): Promise<number> {
  const source = packageSource(input.file);
  const head = source.head(PREFIX_SCAN_BYTES);
  const cut = sessionKeyPrefixLength(head);
  await checkPackageForMe(head.subarray(0, cut), input.agentKey);
  let reader: SeipdReader | undefined;
  let bytes = 0;
  let sinkFailure: { error: unknown } | undefined;
  const collect = youngGarbageEvery(YOUNG_GC_BYTES);
  try {
    const key = await fastSessionKey(head, cut, input.agentKey);
    if (key) reader = new SeipdReader(source.chunks(cut, true), key.data, key.algorithm);
    const opened = reader ? await openInner(reader, input.hostKey) : await openWhole(source, input.agentKey, input.hostKey);
    for await (const chunk of opened.data as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      collect(chunk.length);
      if (sinkFailure) continue;
      try {
        await sink(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      } catch (error) {
        sinkFailure = { error };
      }
    }
    await checkSignedByHost(opened, input.hostKey);
    // the signature may verify before openpgp.js asked for the end of the stream (where the
    // MDC is checked): never return before the reader ended with its MDC checked
    const failure = await reader?.drain();
    if (failure) throw failure;
  } catch (error) {
    const integrity = await reader?.drain().catch(() => undefined);
    throw integrity ?? classify(error);
  }
  if (sinkFailure) throw sinkFailure.error;
  return bytes;
}

/**
 * Decrypt a package into `outFile` (the gzip'd tar, created 0600) and return only once the
 * whole plaintext is on disk and the package verified (`decryptThrough`). The plaintext is
 * streamed to the file instead of being held in memory (a 500 MB module must not need
 * 500 MB of RAM); nothing reads that file before this function returned, so streaming
 * before authentication acts on nothing unverified. The file is removed on any failure.
 */
export async function decryptPackage(input: DecryptInput & { outFile: string }): Promise<void> {
  // opened here, not by the stream: a failure rm's a file that exists, never one opened later
  const fd = fs.openSync(input.outFile, 'w', 0o600);
  try {
    await decryptThrough(input, (chunk) => {
      fs.writeSync(fd, chunk);
    });
    collectGarbage();
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(input.outFile, { force: true });
    // disk full while writing the plaintext is transient, not a tampered package
    throw diskFullError(error, path.dirname(input.outFile)) ?? error;
  }
  fs.closeSync(fd);
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}
