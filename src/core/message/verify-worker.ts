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

/** Keys by token (the SHA-256 of their text or bytes: the token already names them, nothing is hashed again per mail). */
const keys = new Map<string, Promise<openpgp.PublicKey>>();

/** The candidate's key, parsed once per worker (crypto/key-cache.ts); the first sending carries it. */
function keyOf(c: WireCandidate): Promise<openpgp.PublicKey> {
  let found = keys.get(c.token);
  if (!found) {
    if (c.armored !== undefined) found = cachedArmoredKey(c.armored);
    else if (c.bytes !== undefined) found = cachedBinaryKey(c.bytes);
    else return Promise.reject(new Error(`verify worker: key ${c.token} was never sent`));
    found.catch(() => {}); // a key that does not parse fails each job that names it (awaited there)
    keys.set(c.token, found);
  }
  return found;
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
