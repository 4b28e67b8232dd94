import type * as openpgp from 'openpgp';
import type { Clock } from '../clock.js';
import { enqueue } from '../outbox/outbox.js';
import type { Db } from '../store/db.js';
import { composeMail, type MailAttachment } from './mail.js';
import { buildPayload, type MessageType, type Payload, signPayload } from './payload.js';

export interface Sender {
  id: string;
  address: string;
  key: openpgp.PrivateKey;
}

export interface OutgoingMessage<B> {
  type: MessageType;
  toId: string;
  toAddress: string;
  body: B;
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
export async function queueMessage<B>(
  db: Db,
  from: Sender,
  message: OutgoingMessage<B>,
  opts: { clock: Clock; ttlMs: number },
): Promise<Payload<B>> {
  const payload = buildPayload({
    type: message.type,
    from: from.id,
    to: [message.toId],
    body: message.body,
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
