/**
 * The receiving loop both roles share (docs/protocol.md#what-the-receiver-checks-in-order;
 * one message at a time): parse → every acceptance rule → the handler for the payload's
 * type → record the id as processed → move the mail to the processed folder. Handlers are
 * idempotent (a crash before the id is recorded only means the same command is handled
 * again). Anything refused is moved to quarantine with its reason code and recorded;
 * nothing is deleted and nothing runs for a refused mail.
 */
import { auditQuarantine } from '../audit/outcomes.js';
import type { Clock } from '../clock.js';
import { EXIT, isRdsError, REFUSAL, SecurityError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { InboxMessage, MailInbox } from '../mail/types.js';
import type { Db } from '../store/db.js';
import { type AcceptedMessage, type AcceptPolicy, acceptMessage } from './accept.js';
import { type ParsedRdsMail, parseRdsMail } from './mail.js';

export interface HandlerInput {
  accepted: AcceptedMessage;
  mail: ParsedRdsMail;
}

/** A handler does its work and returns a short outcome word recorded with the id. */
export type Handler = (input: HandlerInput) => Promise<string>;
export type HandlerRegistry = Record<string, Handler>;

export interface ReceiveResult {
  processed: { id: string; type: string; from: string; outcome: string }[];
  quarantined: { code: string; reason: string; from?: string; subject?: string }[];
  /** mail a bug of ours could not handle: left in the inbox, the rest of the pass goes on */
  failed: { uid: string; error: string }[];
}

export interface ReceiveOptions {
  db: Db;
  inbox: MailInbox;
  policy: AcceptPolicy;
  handlers: HandlerRegistry;
  maxMessages?: number;
  maxMessageSize: number;
  clock: Clock;
  logger: Logger;
}

export function recordProcessed(db: Db, id: string, type: string, sender: string, outcome: string, now: Date): void {
  db.prepare('INSERT OR IGNORE INTO processed_messages (id, type, sender, processed_at, outcome) VALUES (?, ?, ?, ?, ?)').run(
    id,
    type,
    sender,
    now.toISOString(),
    outcome,
  );
}

export function wasProcessed(db: Db, id: string): boolean {
  return db.prepare('SELECT 1 FROM processed_messages WHERE id = ?').get(id) !== undefined;
}

function recordQuarantine(
  db: Db,
  now: Date,
  q: { code: string; reason: string; from?: string; subject?: string; mailMessageId?: string; payloadId?: string; location: string },
): void {
  db.prepare(
    `INSERT INTO quarantine (received_at, reason_code, reason, from_addr, subject, mail_message_id, payload_id, location)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(now.toISOString(), q.code, q.reason, q.from ?? null, q.subject ?? null, q.mailMessageId ?? null, q.payloadId ?? null, q.location);
}

export async function receiveMessages(options: ReceiveOptions): Promise<ReceiveResult> {
  const { db, inbox, policy, handlers, clock, logger } = options;
  const result: ReceiveResult = { processed: [], quarantined: [], failed: [] };
  for await (const message of inbox.messages({ max: options.maxMessages ?? 1000, maxSize: options.maxMessageSize })) {
    let mail: ParsedRdsMail | undefined;
    let payloadId: string | undefined;
    try {
      if (message.raw.length === 0 && message.size > options.maxMessageSize) {
        throw new SecurityError(REFUSAL.OVERSIZE, `mail of ${message.size} bytes exceeds the ${options.maxMessageSize}-byte limit`);
      }
      mail = await parseRdsMail(message.raw);
      const accepted = await acceptMessage(mail.from, mail.armoredPayload, policy);
      payloadId = accepted.payload.id;
      const handler = handlers[accepted.payload.type];
      if (!handler) throw new SecurityError(REFUSAL.UNKNOWN_TYPE, `payload type '${accepted.payload.type}' is not handled by this node`);
      const outcome = await handler({ accepted, mail });
      recordProcessed(db, accepted.payload.id, accepted.payload.type, accepted.sender.id, outcome, clock.now());
      await inbox.settle(message, { kind: 'processed' });
      result.processed.push({ id: accepted.payload.id, type: accepted.payload.type, from: accepted.sender.id, outcome });
    } catch (error) {
      if (error instanceof SecurityError) {
        await quarantine(db, inbox, message, error, mail, payloadId, clock, logger, result);
        continue;
      }
      if (isRdsError(error)) throw error; // transient (server, disk) or usage: stop the pass, lose nothing
      // A bug of ours must not turn one mail into a poison pill that blocks every later
      // one: leave it in the inbox (nothing is lost), say so loudly, and go on.
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      logger.error('this is a bug: a mail could not be handled and stays in the inbox', { uid: message.uid, error: text });
      result.failed.push({ uid: message.uid, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return result;
}

async function quarantine(
  db: Db,
  inbox: MailInbox,
  message: InboxMessage,
  error: SecurityError,
  mail: ParsedRdsMail | undefined,
  payloadId: string | undefined,
  clock: Clock,
  logger: Logger,
  result: ReceiveResult,
): Promise<void> {
  const reason = `${error.code}: ${error.message}`;
  recordQuarantine(db, clock.now(), {
    code: error.code,
    reason: error.message,
    ...(mail?.from ? { from: mail.from } : {}),
    ...(mail?.subject ? { subject: mail.subject } : {}),
    ...(mail?.messageId ? { mailMessageId: mail.messageId } : {}),
    ...(payloadId ? { payloadId } : {}),
    location: message.uid,
  });
  auditQuarantine(db, { code: error.code, from: mail?.from, reason: error.message }, clock.now());
  await inbox.settle(message, { kind: 'quarantined', reason });
  logger.warn('mail quarantined', { code: error.code, from: mail?.from, reason: error.message });
  result.quarantined.push({
    code: error.code,
    reason: error.message,
    ...(mail?.from ? { from: mail.from } : {}),
    ...(mail?.subject ? { subject: mail.subject } : {}),
  });
}

/** A receive pass's exit code (docs/commands.md#exit-codes): transient beats refused beats a bug of ours. */
export function receiveExitCode(result: ReceiveResult, transient: boolean): number {
  if (transient) return EXIT.TRANSIENT;
  if (result.quarantined.length > 0) return EXIT.SECURITY;
  return result.failed.length > 0 ? EXIT.FAILED : EXIT.OK;
}
