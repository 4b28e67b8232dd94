/**
 * A verify worker (verify-pool.ts): parses mail and checks signatures with the very
 * functions the receive loop uses in process (parseRdsMail, verifySignedDataByAny), on the
 * bytes it is sent. Keys arrive with each job and are parsed on first use.
 */
import { parentPort } from 'node:worker_threads';
import type * as openpgp from 'openpgp';
import { cachedKey } from '../crypto/key-cache.js';
import { verifySignedDataByAny } from '../crypto/signed-data.js';
import { SecurityError } from '../errors.js';
import { parseRdsMail } from './mail.js';
import type { WireCandidate, WireReply, WireRequest } from './verify-wire.js';

/**
 * The candidate's key, parsed once per worker while it stays in the bounded cache
 * (crypto/key-cache.ts; the token already names it, nothing is hashed again per mail).
 * Every job carries its keys, so a key dropped from the cache is parsed again, never missing.
 */
function keyOf(c: WireCandidate): Promise<openpgp.PublicKey> {
  if (c.armored !== undefined) return cachedKey({ armored: c.armored }, c.token);
  if (c.bytes !== undefined) return cachedKey({ bytes: c.bytes }, c.token);
  return Promise.reject(new Error(`verify worker: key ${c.token} came without its bytes`));
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
  const { data, index } = await verifySignedDataByAny(request.armored, candidates, request.pickedBy);
  return { id: request.id, ok: true, data, index };
}

/** The reply's byte arrays that are this worker's own (fresh copies): moved to the pool, not copied again. */
function transfers(reply: WireReply): ArrayBuffer[] {
  if (!reply.ok) return [];
  if ('mail' in reply) return reply.mail.attachments.map(([, content]) => content.buffer as ArrayBuffer);
  return [];
}

parentPort?.on('message', (request: WireRequest) => {
  handle(request).then(
    (reply) => parentPort?.postMessage(reply, transfers(reply)),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      parentPort?.postMessage({ id: request.id, ok: false, message, ...(error instanceof SecurityError ? { code: error.code } : {}) });
    },
  );
});
