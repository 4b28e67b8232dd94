/**
 * A verify worker (verify-pool.ts): parses mail and checks signatures with the very
 * functions the receive loop uses in process (parseRdsMail, verifySignedDataWith), on the
 * bytes it is sent. Keys arrive as bytes once per worker and are parsed on first use.
 */
import { parentPort } from 'node:worker_threads';
import { cachedBinaryKey } from '../crypto/key-cache.js';
import { verifySignedDataWith } from '../crypto/signed-data.js';
import { SecurityError } from '../errors.js';
import { parseRdsMail } from './mail.js';
import type { WireCandidate, WireReply, WireRequest } from './verify-wire.js';

const keyBytes = new Map<string, Uint8Array>();

function candidate(c: WireCandidate) {
  if (c.bytes) keyBytes.set(c.token, c.bytes);
  return {
    keyIds: new Set(c.keyIds),
    fingerprint: c.fingerprint,
    key: () => {
      const bytes = keyBytes.get(c.token);
      if (!bytes) throw new Error(`verify worker: no bytes for key ${c.fingerprint}`);
      return cachedBinaryKey(bytes);
    },
  };
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
  const { data, index } = await verifySignedDataWith(request.armored, request.candidates.map(candidate));
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
