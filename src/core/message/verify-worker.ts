/**
 * A verify worker (verify-pool.ts): parses mail and checks signatures with the very
 * functions the receive loop uses in process (parseRdsMail, verifySignedDataByAny), on the
 * bytes it is sent. Keys arrive as bytes once per worker and are parsed on first use.
 */
import { parentPort } from 'node:worker_threads';
import type * as openpgp from 'openpgp';
import { cachedArmoredKey, cachedBinaryKey } from '../crypto/key-cache.js';
import { verifySignedDataByAny } from '../crypto/signed-data.js';
import { SecurityError } from '../errors.js';
import { parseRdsMail } from './mail.js';
import type { WireCandidate, WireReply, WireRequest } from './verify-wire.js';

const keys = new Map<string, WireCandidate>();

/** The candidate's key, parsed once per worker (crypto/key-cache.ts). */
function keyOf(c: WireCandidate): Promise<openpgp.PublicKey> {
  if (c.armored !== undefined || c.bytes !== undefined) keys.set(c.token, c);
  const known = keys.get(c.token);
  if (known?.armored !== undefined) return cachedArmoredKey(known.armored);
  if (known?.bytes !== undefined) return cachedBinaryKey(known.bytes);
  throw new Error(`verify worker: key ${c.token} was never sent`);
}

async function handle(request: WireRequest): Promise<WireReply> {
  if (request.kind === 'parse') {
    const mail = await parseRdsMail(Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength));
    return {
      id: request.id,
      ok: true,
      mail: {
        from: mail.from,
        subject: mail.subject,
        ...(mail.messageId ? { messageId: mail.messageId } : {}),
        ...(mail.armoredPayload !== undefined ? { armoredPayload: mail.armoredPayload } : {}),
        attachments: [...mail.attachments].map(([name, content]) => [name, new Uint8Array(content)]),
      },
    };
  }
  const candidates = await Promise.all(request.candidates.map(keyOf));
  const { data, index } = await verifySignedDataByAny(request.armored, candidates);
  return { id: request.id, ok: true, data, index };
}

parentPort?.on('message', (request: WireRequest) => {
  handle(request).then(
    (reply) => parentPort?.postMessage(reply),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      parentPort?.postMessage({ id: request.id, ok: false, message, ...(error instanceof SecurityError ? { code: error.code } : {}) });
    },
  );
});
