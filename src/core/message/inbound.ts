/**
 * The receiving loop both roles share (docs/protocol.md#what-the-receiver-checks-in-order;
 * acting on one message at a time): parse → every acceptance rule → the handler for the
 * payload's type → record the id as processed → move the mail to the processed folder.
 * Handlers are idempotent (a crash before the id is recorded only means the same command is
 * handled again). Anything refused is moved to quarantine with its reason code and
 * recorded; nothing is deleted and nothing runs for a refused mail.
 *
 * The host's inbox goes faster with three options, none of which changes a check or its
 * order: `checker` parses mail and checks signatures on worker threads (verify-pool.ts),
 * `ahead` mails ahead of the one acted on (every rule but replay, which depends on what was
 * acted on before and is checked just before acting: prepare-ahead.ts); `batch` records up
 * to that many mails in one SQLite transaction and moves them after its commit (act-batch.ts).
 * With `claims` (the host), each mail's payload id is claimed in one transaction with its act
 * (claim.ts), so several workers on one store and mailbox act on each mail exactly once; in a
 * batch the claim is a savepoint inside the batch's transaction.
 */
import { auditQuarantine } from '../audit/outcomes.js';
import type { Clock } from '../clock.js';
import { EXIT, isRdsError, REFUSAL, SecurityError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { InboxMessage, MailInbox } from '../mail/types.js';
import type { Db } from '../store/db.js';
import { type AcceptedMessage, type AcceptPolicy, checkReplay } from './accept.js';
import { ActBatch } from './act-batch.js';
import { actOnce, processedElsewhere, type Seen } from './claim.js';
import type { ParsedRdsMail } from './mail.js';
import { ahead, type MailChecker, type Prepared, prepareMail } from './prepare-ahead.js';

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
  /** (claims) mail acted on by an earlier pass killed before its move: moved now, not acted on again */
  alreadyDone: { id: string; uid: string }[];
  /** (claims) mail another worker running now acted on while this pass ran: left for it to move */
  takenByOther: { id: string; uid: string }[];
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
  /** parse and check signatures off the main thread (a VerifyPool) */
  checker?: MailChecker;
  /** mails parsed and checked ahead of the one acted on (default 1: none ahead) */
  ahead?: number;
  /** mails recorded per SQLite transaction, moved after its commit (default 1: each at once) */
  batch?: number;
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
  const { inbox } = options;
  const result: ReceiveResult = { processed: [], quarantined: [], failed: [], alreadyDone: [], takenByOther: [] };
  const passStart = options.clock.now().getTime();
  const batch = new ActBatch(options.db, inbox, options.batch ?? 1);
  const waiting = inbox.messages({ max: options.maxMessages ?? 1000, maxSize: options.maxMessageSize });
  try {
    for await (const item of ahead(waiting, options.ahead ?? 1, (m) => prepareMail(m, options))) {
      await actOn(item, { ...options, passStart }, batch, result);
    }
  } catch (error) {
    await batch.commit(); // what was done before stays done (and moved); the error stops the pass
    throw error;
  }
  await batch.commit();
  return result;
}

/** The last rule (replay), the handler, the record, the move; or quarantine, or left for a bug. */
async function actOn(
  item: Prepared,
  options: ReceiveOptions & { passStart: number },
  batch: ActBatch,
  result: ReceiveResult,
): Promise<void> {
  const { db, policy, handlers, clock, logger } = options;
  const { message, mail } = item;
  let payloadId: string | undefined;
  try {
    batch.enter();
    if (item.error !== undefined) throw item.error;
    const accepted = item.accepted as AcceptedMessage;
    let looked: { seen: Seen } | undefined;
    checkReplay(accepted.payload, options.claims ? claimPolicy(policy, db, message, (seen) => (looked = { seen })) : policy);
    payloadId = accepted.payload.id;
    const handler = handlers[accepted.payload.type];
    if (!handler) throw new SecurityError(REFUSAL.UNKNOWN_TYPE, `payload type '${accepted.payload.type}' is not handled by this node`);
    const act = () => handler({ accepted, mail: mail as ParsedRdsMail });
    const done = options.claims
      ? await actOnce(db, claimOf(accepted, message, clock), act, looked)
      : await actThenRecord(db, accepted, act, clock);
    if (done.kind === 'done-before' && claimedSince(done.claimedAt, options.passStart)) {
      batch.undo(); // nothing was written: the worker that claimed it moves it
      result.takenByOther.push({ id: accepted.payload.id, uid: message.uid });
      return;
    }
    await batch.keep(message, { kind: 'processed' });
    if (done.kind === 'done-before') result.alreadyDone.push({ id: accepted.payload.id, uid: message.uid });
    else result.processed.push({ id: accepted.payload.id, type: accepted.payload.type, from: accepted.sender.id, outcome: done.outcome });
  } catch (error) {
    batch.undo();
    if (error instanceof SecurityError) {
      batch.enter();
      await quarantine({ db, batch, clock, logger, claims: options.claims === true }, message, error, mail, payloadId, result);
      return;
    }
    if (isRdsError(error)) throw error; // transient (server, disk) or usage: stop the pass, lose nothing
    // A bug of ours (or a verify worker that failed) must not turn one mail into a poison
    // pill that blocks every later one: leave it in the inbox (nothing is lost), say so
    // loudly, and go on.
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    logger.error('this is a bug: a mail could not be handled and stays in the inbox', { uid: message.uid, error: text });
    result.failed.push({ uid: message.uid, error: error instanceof Error ? error.message : String(error) });
  }
}

/** A claim made after this pass began: by a worker running now (the clocks of several boxes are assumed in step, as for every timestamp). */
function claimedSince(claimedAt: string | null, passStart: number): boolean {
  return claimedAt !== null && Date.parse(claimedAt) >= passStart;
}

/** The replay pre-check with claims: the same mail (same location) processed before is moved, not refused. */
function claimPolicy(policy: AcceptPolicy, db: Db, message: InboxMessage, remember: (seen: Seen) => void): AcceptPolicy {
  return { ...policy, wasProcessed: (id) => processedElsewhere(db, id, message.uid, remember) };
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
  batch: ActBatch;
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
  const { db, batch, clock, logger } = ctx;
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
  // inside a batch the record is already in the batch's transaction
  const fresh = ctx.claims && !db.inTransaction ? db.transaction(record).immediate() : record();
  await batch.keep(message, { kind: 'quarantined', reason });
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
