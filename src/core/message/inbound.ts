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
import { actOnce, processedElsewhere } from './claim.js';
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
  /** (claims) mail acted on before, by another worker or a pass killed before its move: moved, not acted on again */
  alreadyDone: { id: string; uid: string }[];
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
  /**
   * Exactly once with several workers on one store and mailbox (claim.ts): the payload id is
   * claimed in one transaction with the handler's act. Only for handlers whose every effect
   * is in the store (the host's); an agent's install must commit its journal as it goes.
   */
  claims?: boolean;
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
  const result: ReceiveResult = { processed: [], quarantined: [], failed: [], alreadyDone: [] };
  for await (const message of inbox.messages({ max: options.maxMessages ?? 1000, maxSize: options.maxMessageSize })) {
    let mail: ParsedRdsMail | undefined;
    let payloadId: string | undefined;
    try {
      if (message.raw.length === 0 && message.size > options.maxMessageSize) {
        throw new SecurityError(REFUSAL.OVERSIZE, `mail of ${message.size} bytes exceeds the ${options.maxMessageSize}-byte limit`);
      }
      const parsed = await parseRdsMail(message.raw);
      mail = parsed;
      const accepted = await acceptMessage(mail.from, mail.armoredPayload, options.claims ? claimPolicy(policy, db, message) : policy);
      payloadId = accepted.payload.id;
      const handler = handlers[accepted.payload.type];
      if (!handler) throw new SecurityError(REFUSAL.UNKNOWN_TYPE, `payload type '${accepted.payload.type}' is not handled by this node`);
      const act = () => handler({ accepted, mail: parsed });
      const done = options.claims
        ? await actOnce(db, claimOf(accepted, message, clock), act)
        : await actThenRecord(db, accepted, act, clock);
      await inbox.settle(message, { kind: 'processed' });
      if (done.kind === 'done-before') result.alreadyDone.push({ id: accepted.payload.id, uid: message.uid });
      else result.processed.push({ id: accepted.payload.id, type: accepted.payload.type, from: accepted.sender.id, outcome: done.outcome });
    } catch (error) {
      if (error instanceof SecurityError) {
        await quarantine({ db, inbox, clock, logger, claims: options.claims === true }, message, error, mail, payloadId, result);
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

/** The replay pre-check with claims: the same mail (same location) processed before is moved, not refused. */
function claimPolicy(policy: AcceptPolicy, db: Db, message: InboxMessage): AcceptPolicy {
  return { ...policy, wasProcessed: (id) => processedElsewhere(db, id, message.uid) };
}

function claimOf(accepted: AcceptedMessage, message: InboxMessage, clock: Clock) {
  const { payload, sender } = accepted;
  return { id: payload.id, type: payload.type, sender: sender.id, location: message.uid, now: clock.now() };
}

/** Without claims (one pass at a time, e.g. an agent): act, then record the id. */
async function actThenRecord(db: Db, accepted: AcceptedMessage, act: () => Promise<string>, clock: Clock) {
  const outcome = await act();
  recordProcessed(db, accepted.payload.id, accepted.payload.type, accepted.sender.id, outcome, clock.now());
  return { kind: 'acted', outcome } as const;
}

interface QuarantineContext {
  db: Db;
  inbox: MailInbox;
  clock: Clock;
  logger: Logger;
  claims: boolean;
}

async function quarantine(
  ctx: QuarantineContext,
  message: InboxMessage,
  error: SecurityError,
  mail: ParsedRdsMail | undefined,
  payloadId: string | undefined,
  result: ReceiveResult,
): Promise<void> {
  const { db, inbox, clock, logger } = ctx;
  const reason = `${error.code}: ${error.message}`;
  const record = () => {
    // with several workers the same mail may be refused by two of them: recorded once
    if (ctx.claims && quarantinedBefore(db, message.uid, mail?.messageId, error.code)) return false;
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
    return true;
  };
  const fresh = ctx.claims ? db.transaction(record).immediate() : record();
  await inbox.settle(message, { kind: 'quarantined', reason });
  if (!fresh) return;
  logger.warn('mail quarantined', { code: error.code, from: mail?.from, reason: error.message });
  result.quarantined.push({
    code: error.code,
    reason: error.message,
    ...(mail?.from ? { from: mail.from } : {}),
    ...(mail?.subject ? { subject: mail.subject } : {}),
  });
}

function quarantinedBefore(db: Db, location: string, mailMessageId: string | undefined, code: string): boolean {
  const row = db
    .prepare("SELECT 1 FROM quarantine WHERE location = ? AND reason_code = ? AND COALESCE(mail_message_id, '') = ?")
    .get(location, code, mailMessageId ?? '');
  return row !== undefined;
}

/** A receive pass's exit code (docs/commands.md#exit-codes): transient beats refused beats a bug of ours. */
export function receiveExitCode(result: ReceiveResult, transient: boolean): number {
  if (transient) return EXIT.TRANSIENT;
  if (result.quarantined.length > 0) return EXIT.SECURITY;
  return result.failed.length > 0 ? EXIT.FAILED : EXIT.OK;
}
