import type * as openpgp from 'openpgp';
import type { Clock } from '../clock.js';
import { enqueue } from '../outbox/outbox.js';
import { type BodyOf, encodeBody, type MessageType } from '../protocol/index.js';
import type { Db } from '../store/db.js';
import { composeMail, type MailAttachment } from './mail.js';
import { buildPayload, type Payload, signPayload } from './payload.js';

export interface Sender {
  id: string;
  address: string;
  key: openpgp.PrivateKey;
}

export interface OutgoingMessage<T extends MessageType> {
  type: T;
  toId: string;
  toAddress: string;
  /** encoded by the type's protocol module (protocol/index.ts) */
  body: BodyOf<T>;
  subject: string;
  text: string;
  inReplyTo?: string;
  attachments?: MailAttachment[];
  /** outbox bookkeeping */
  ref?: string;
}

/**
 * Build, sign and queue one message (payload → signature → mail → outbox). The caller
 * flushes the outbox; until then the message is durable and nothing is lost if the
 * process dies or SMTP is down.
 */
export async function queueMessage<T extends MessageType>(
  db: Db,
  from: Sender,
  message: OutgoingMessage<T>,
  opts: { clock: Clock; ttlMs: number },
): Promise<Payload> {
  const payload = buildPayload({
    type: message.type,
    from: from.id,
    to: [message.toId],
    body: encodeBody(message.type, message.body),
    ttlMs: opts.ttlMs,
    clock: opts.clock,
    ...(message.inReplyTo ? { inReplyTo: message.inReplyTo } : {}),
  });
  const armoredPayload = await signPayload(payload, from.key);
  const { raw, messageId } = await composeMail({
    from: from.address,
    to: message.toAddress,
    subject: message.subject,
    text: message.text,
    type: message.type,
    payloadId: payload.id,
    armoredPayload,
    date: opts.clock.now(),
    ...(message.attachments ? { attachments: message.attachments } : {}),
  });
  enqueue(
    db,
    {
      messageId,
      kind: message.type,
      ...(message.ref ? { ref: message.ref } : {}),
      envelope: { from: from.address, to: [message.toAddress] },
      raw,
    },
    opts.clock.now(),
  );
  return payload;
}
