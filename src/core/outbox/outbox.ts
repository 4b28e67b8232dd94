/**
 * Every outgoing message is written here first, then sent, then marked sent
 * (docs/state.md#outbox): SMTP down means exit 3 and the message goes out on the next run;
 * nothing is lost and nothing is sent twice by rds itself (the payload id makes a resend by
 * the network harmless: receivers drop replays).
 */
import type { Clock } from '../clock.js';
import { isRdsError, type RdsError, TransientError, UsageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Envelope, MailPieces, MailSender } from '../mail/types.js';
import type { Db } from '../store/db.js';
import { statement } from '../store/statement.js';

export interface OutboxItem {
  seq: number;
  messageId: string;
  kind: string;
  ref: string | null;
  /** an update mail's rollout and agent: sending or ending it records the rollout status (migration 009) */
  rolloutId?: string | null;
  agentId?: string | null;
  envelope: Envelope;
  raw: Buffer | null;
  compose: string | null;
  attempts: number;
}

export interface EnqueueInput {
  messageId: string;
  kind: string;
  ref?: string;
  rolloutId?: string;
  agentId?: string;
  envelope: Envelope;
  raw?: Buffer;
  /** a JSON recipe the flush's `build` turns into the raw mail (large mails) */
  compose?: unknown;
  /** an update-part mail's part number (migration 016: only part 1 counts an attempt) */
  part?: number;
}

/** Queue one mail; its `seq`, or undefined when a mail with this message id is queued already. */
export function enqueue(db: Db, item: EnqueueInput, now: Date): number | undefined {
  const info = statement(
    db,
    `INSERT OR IGNORE INTO outbox (message_id, kind, ref, rollout_id, agent_id, env_from, env_to, raw, compose, created_at, part)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    item.messageId,
    item.kind,
    item.ref ?? null,
    item.rolloutId ?? null,
    item.agentId ?? null,
    item.envelope.from,
    item.envelope.to.join(','),
    item.raw ?? null,
    item.compose === undefined ? null : JSON.stringify(item.compose),
    now.toISOString(),
    item.part ?? null,
  );
  return info.changes > 0 ? Number(info.lastInsertRowid) : undefined;
}

interface Row {
  seq: number;
  message_id: string;
  kind: string;
  ref: string | null;
  rollout_id: string | null;
  agent_id: string | null;
  env_from: string;
  env_to: string;
  raw: Buffer | null;
  compose: string | null;
  attempts: number;
}

/** Items waiting to be sent; ended ones (failed for good, dropped) are never taken again. */
export function pendingOutbox(db: Db, filter?: { rolloutId?: string }): OutboxItem[] {
  const rows = statement(
    db,
    `SELECT seq, message_id, kind, ref, rollout_id, agent_id, env_from, env_to, raw, compose, attempts FROM outbox
       WHERE sent_at IS NULL AND state IS NULL AND held_at IS NULL AND (? IS NULL OR rollout_id = ?) ORDER BY seq`,
  ).all(filter?.rolloutId ?? null, filter?.rolloutId ?? null) as Row[];
  return rows.map(itemOf);
}

/**
 * The same items, read page by page (by seq) as the flush takes them: a pass over 10,000
 * queued mails holds one page of them, not all. An item that stays queued (tried, failed)
 * is not met again in the same pass.
 */
export async function* pendingPages(db: Db, pageSize = 256): AsyncGenerator<OutboxItem, void, undefined> {
  const page = statement(
    db,
    `SELECT seq, message_id, kind, ref, rollout_id, agent_id, env_from, env_to, raw, compose, attempts FROM outbox
     WHERE sent_at IS NULL AND state IS NULL AND held_at IS NULL AND seq > ? ORDER BY seq LIMIT ?`,
  );
  let after = 0;
  for (;;) {
    const rows = page.all(after, pageSize) as Row[];
    for (const r of rows) yield itemOf(r);
    if (rows.length < pageSize) return;
    after = (rows.at(-1) as Row).seq;
  }
}

/** One queued item read back by its seq (push-all keeps the seqs of later part mails, not their recipes). */
export function queuedItem(db: Db, seq: number): OutboxItem | undefined {
  const row = statement(
    db,
    'SELECT seq, message_id, kind, ref, rollout_id, agent_id, env_from, env_to, raw, compose, attempts FROM outbox WHERE seq = ?',
  ).get(seq) as Row | undefined;
  return row ? itemOf(row) : undefined;
}

function itemOf(r: Row): OutboxItem {
  return {
    seq: r.seq,
    messageId: r.message_id,
    kind: r.kind,
    ref: r.ref,
    rolloutId: r.rollout_id,
    agentId: r.agent_id,
    envelope: { from: r.env_from, to: r.env_to.split(',') },
    raw: r.raw,
    compose: r.compose,
    attempts: r.attempts,
  };
}

export function countPending(db: Db): number {
  return (
    statement(db, 'SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND state IS NULL AND held_at IS NULL').get() as { n: number }
  ).n;
}

export interface FlushFailure {
  item: OutboxItem;
  error: string;
  /** true: refused for good (5xx, too large), the item ended as failed; false: it stays queued */
  ended: boolean;
}

export interface FlushResult {
  sent: OutboxItem[];
  failed: FlushFailure[];
  /**
   * Set when the flush stopped early and the rest stays queued: a TransientError (server
   * unreachable, 4xx: exit 3) or a UsageError (login refused, TLS, not an SMTP server: exit 2).
   */
  stopped?: RdsError;
}

/**
 * Does this failure stop the whole flush? Unreachable servers and deferrals (4xx) do, and so
 * do config errors (the login, TLS or the URL is wrong): the next mail would meet the same
 * fate, and no mail is at fault, so none is marked failed.
 */
export function stopsFlush(error: RdsError): boolean {
  if (error instanceof TransientError) return true;
  return error instanceof UsageError && !ENDS_ITEM.has(error.code);
}

/** Failures of one mail that no retry can fix: the item ends as failed with its reason. */
const ENDS_ITEM = new Set(['SMTP_REJECTED', 'MAIL_TOO_LARGE', 'MAILDIR_BAD_ADDRESS']);

/**
 * The agents of a rollout that have an update mail in the outbox, and whether it went out:
 * a retry queues no second mail next to a pending one, nor re-sends a sent one.
 */
export function rolloutMail(db: Db, rolloutId: string): Map<string, { sent: boolean }> {
  const rows = statement(db, 'SELECT agent_id, sent_at FROM outbox WHERE rollout_id = ?').all(rolloutId) as {
    agent_id: string;
    sent_at: string | null;
  }[];
  const out = new Map<string, { sent: boolean }>();
  for (const r of rows) out.set(r.agent_id, { sent: (out.get(r.agent_id)?.sent ?? false) || r.sent_at !== null });
  return out;
}

/** `push-all --retry-failed`: the rollout's update mail to AGENT that ended (refused, dropped) is queued again. */
export function requeueRolloutMail(db: Db, rolloutId: string, agentId: string): void {
  statement(
    db,
    'UPDATE outbox SET state = NULL, ended_at = NULL, ended_reason = NULL WHERE rollout_id = ? AND agent_id = ? AND sent_at IS NULL AND state IS NOT NULL',
  ).run(rolloutId, agentId);
}

/**
 * A rollout's unsent update mails held while it is paused or halted (`held_at`: no flush
 * takes them, nothing ended them), or put back in the queue when it resumes.
 */
export function holdRolloutMail(db: Db, rolloutId: string, hold: boolean, now: Date): number {
  const sql = hold
    ? 'UPDATE outbox SET held_at = ? WHERE rollout_id = ? AND sent_at IS NULL AND state IS NULL AND held_at IS NULL'
    : 'UPDATE outbox SET held_at = NULL WHERE ? IS NOT NULL AND rollout_id = ? AND sent_at IS NULL AND state IS NULL AND held_at IS NOT NULL';
  return statement(db, sql).run(now.toISOString(), rolloutId).changes;
}

/** An aborted rollout's unsent update mails (queued or held) end as dropped. */
export function dropRolloutMail(db: Db, rolloutId: string, reason: string, now: Date): number {
  return statement(
    db,
    "UPDATE outbox SET state = 'dropped', ended_at = ?, ended_reason = ? WHERE rollout_id = ? AND sent_at IS NULL AND state IS NULL",
  ).run(now.toISOString(), reason, rolloutId).changes;
}

/**
 * `--rate`: a rollout's update mails that count against its window: sent since `since`, or
 * queued (or held) and not sent yet (they go out within the window they were queued in, or later).
 * An agent's N update-part mails are one update mail here: part 1 counts.
 */
export function rolloutMailInWindow(db: Db, rolloutId: string, since: Date): number {
  return (
    statement(
      db,
      'SELECT count(*) AS n FROM outbox WHERE rollout_id = ? AND (part IS NULL OR part = 1) AND (sent_at >= ? OR (sent_at IS NULL AND state IS NULL))',
    ).get(rolloutId, since.toISOString()) as { n: number }
  ).n;
}

/** End one queued item without sending it (`rds outbox drop`, a removed agent). */
export function endItem(db: Db, seq: number, state: 'failed' | 'dropped', reason: string, now: Date): boolean {
  const info = statement(
    db,
    'UPDATE outbox SET state = ?, ended_at = ?, ended_reason = ? WHERE seq = ? AND sent_at IS NULL AND state IS NULL',
  ).run(state, now.toISOString(), reason, seq);
  return info.changes > 0;
}

/**
 * `rds outbox drop`: an unsent item, queued or failed, marked dropped (never deleted) with
 * the reason; false when it was sent or is dropped already.
 */
export function dropItem(db: Db, seq: number, reason: string, now: Date): boolean {
  const info = statement(
    db,
    "UPDATE outbox SET state = 'dropped', ended_at = ?, ended_reason = ? WHERE seq = ? AND sent_at IS NULL AND (state IS NULL OR state = 'failed')",
  ).run(now.toISOString(), reason, seq);
  return info.changes > 0;
}

/** An ended item (failed or dropped) back to the queue; false when it is not ended. */
export function requeueItem(db: Db, seq: number): boolean {
  return (
    statement(
      db,
      'UPDATE outbox SET state = NULL, ended_at = NULL, ended_reason = NULL WHERE seq = ? AND sent_at IS NULL AND state IS NOT NULL',
    ).run(seq).changes > 0
  );
}

/** End every queued mail to ADDRESS (its agent was removed); how many ended. */
export function endMailTo(db: Db, address: string, reason: string, now: Date): number {
  const rows = statement(db, 'SELECT seq FROM outbox WHERE sent_at IS NULL AND state IS NULL AND lower(env_to) = lower(?)').all(
    address,
  ) as {
    seq: number;
  }[];
  let n = 0;
  for (const r of rows) if (endItem(db, r.seq, 'dropped', reason, now)) n++;
  return n;
}

export interface FlushOptions {
  items?: OutboxItem[];
  /**
   * Instead of `items`: items produced while the flush runs (push-all signs and queues mail
   * for the next agents while the first ones are on the wire). Once the flush stops early
   * (server unreachable) nothing more is taken from it; the caller drains it. If it throws,
   * the mails in flight are finished and recorded, then the flush rejects with that error.
   */
  source?: AsyncIterator<OutboxItem>;
  /** a queued recipe's mail: one buffer, or pieces (a large shared body, streamed by senders that can) */
  build?: (item: OutboxItem) => Promise<Buffer | MailPieces>;
  concurrency?: number;
  onSent?: (item: OutboxItem, error?: string) => void;
  logger: Logger;
  clock: Clock;
}

/**
 * Send queued mail, several at once (the SMTP adapter pools connections). A rejection of
 * one message for good (5xx) ends that item as failed with its reason and the rest go on;
 * an unreachable server, a deferral (4xx) or a config error (login, TLS, not SMTP) stops
 * the flush and leaves everything unsent queued for the next run.
 */
export async function flushOutbox(db: Db, sender: MailSender, options: FlushOptions): Promise<FlushResult> {
  const items = options.source ? [] : (options.items ?? pendingOutbox(db));
  const result: FlushResult = { sent: [], failed: [] };
  const markSent = statement(
    db,
    'UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL, last_tried_at = ? WHERE seq = ?',
  );
  const markTried = statement(db, 'UPDATE outbox SET attempts = attempts + 1, last_error = ?, last_tried_at = ? WHERE seq = ?');
  const markEnded = statement(
    db,
    "UPDATE outbox SET attempts = attempts + 1, last_error = ?, last_tried_at = ?, state = 'failed', ended_at = ?, ended_reason = ? WHERE seq = ?",
  );
  let next = 0;
  let sourceFailed: { error: unknown } | undefined;
  const take = async (): Promise<OutboxItem | undefined> => {
    if (!options.source) return items[next++];
    try {
      const got = await options.source.next();
      return got.done ? undefined : got.value;
    } catch (error) {
      sourceFailed ??= { error };
      return undefined;
    }
  };
  const worker = async () => {
    while (!result.stopped && !sourceFailed) {
      const item = await take();
      if (!item || result.stopped) return;
      try {
        await sendBuilt(sender, item.envelope, item.raw ?? (await (options.build ?? missingBuilder)(item)));
        const at = options.clock.now().toISOString();
        markSent.run(at, at, item.seq); // an update mail's rollout status with it (migration 009)
        result.sent.push({ ...item, raw: null, compose: null }); // what was sent, not its bytes (10,000 mails in a pass)
        options.onSent?.(item);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!isRdsError(error)) throw error;
        const at = options.clock.now().toISOString();
        if (stopsFlush(error)) {
          if (!result.stopped) {
            // on stderr too (cron mail, log files): the command's mail line says it on stdout
            options.logger.warn('mail not sent, the rest stays queued', {
              to: item.envelope.to.join(','),
              kind: item.kind,
              error: message,
            });
          }
          result.stopped ??= error;
          markTried.run(message, at, item.seq);
          return;
        }
        const ended = ENDS_ITEM.has(error.code);
        if (ended) markEnded.run(message, at, at, message, item.seq);
        else markTried.run(message, at, item.seq);
        result.failed.push({ item, error: message, ended });
        options.onSent?.(item, message);
        options.logger.warn(ended ? 'mail refused for good' : 'mail refused', {
          to: item.envelope.to.join(','),
          kind: item.kind,
          error: message,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  if (sourceFailed) throw sourceFailed.error;
  return result;
}

/** A built mail through the sender: pieces streamed where it can, else joined. */
function sendBuilt(sender: MailSender, envelope: Envelope, raw: Buffer | MailPieces): Promise<void> {
  if (Buffer.isBuffer(raw)) return sender.sendRaw(envelope, raw);
  if (sender.sendPieces) return sender.sendPieces(envelope, raw);
  return sender.sendRaw(envelope, Buffer.concat(raw.pieces, raw.length));
}

async function missingBuilder(item: OutboxItem): Promise<Buffer> {
  throw new Error(`outbox item ${item.messageId} has no raw mail and no builder`);
}

/** One row of `rds outbox list`: what waits, how often it was tried, the last server answer. */
export interface OutboxEntry {
  seq: number;
  messageId: string;
  kind: string;
  ref: string | null;
  to: string[];
  createdAt: string;
  attempts: number;
  lastTriedAt: string | null;
  /** the last server answer (or connection failure); for an ended item, why it ended */
  lastError: string | null;
  state: 'queued' | 'failed' | 'dropped' | 'sent' | 'held';
  sentAt: string | null;
  endedAt: string | null;
  endedReason: string | null;
}

interface EntryRow {
  seq: number;
  message_id: string;
  kind: string;
  ref: string | null;
  env_to: string;
  created_at: string;
  attempts: number;
  last_tried_at: string | null;
  last_error: string | null;
  state: 'failed' | 'dropped' | null;
  held_at: string | null;
  sent_at: string | null;
  ended_at: string | null;
  ended_reason: string | null;
}

const ENTRY_COLUMNS =
  'seq, message_id, kind, ref, env_to, created_at, attempts, last_tried_at, last_error, state, sent_at, ended_at, ended_reason, held_at';

function toEntry(r: EntryRow): OutboxEntry {
  return {
    seq: r.seq,
    messageId: r.message_id,
    kind: r.kind,
    ref: r.ref,
    to: r.env_to.split(','),
    createdAt: r.created_at,
    attempts: r.attempts,
    lastTriedAt: r.last_tried_at,
    lastError: r.last_error,
    state: r.sent_at ? 'sent' : (r.state ?? (r.held_at ? 'held' : 'queued')),
    sentAt: r.sent_at,
    endedAt: r.ended_at,
    endedReason: r.ended_reason,
  };
}

/**
 * Everything not sent (queued, failed, dropped) and what was sent since `sentSince`
 * (`undefined`: every sent item), oldest first.
 */
export function listOutbox(db: Db, sentSince: Date | undefined): OutboxEntry[] {
  const rows = statement(db, `SELECT ${ENTRY_COLUMNS} FROM outbox WHERE sent_at IS NULL OR ? IS NULL OR sent_at >= ? ORDER BY seq`).all(
    sentSince?.toISOString() ?? null,
    sentSince?.toISOString() ?? null,
  ) as EntryRow[];
  return rows.map(toEntry);
}

/** An item by its seq (`17`, `#17`) or its message id (`<…@…>`, with or without the brackets). */
export function findOutboxEntry(db: Db, id: string): OutboxEntry | undefined {
  const trimmed = id.trim();
  const seq = /^#?\d{1,15}$/.test(trimmed) ? Number(trimmed.replace('#', '')) : undefined;
  const bare = trimmed.replace(/^<|>$/g, '');
  const row = (
    seq !== undefined
      ? statement(db, `SELECT ${ENTRY_COLUMNS} FROM outbox WHERE seq = ?`).get(seq)
      : statement(db, `SELECT ${ENTRY_COLUMNS} FROM outbox WHERE message_id = ? OR message_id = ?`).get(`<${bare}>`, bare)
  ) as EntryRow | undefined;
  return row ? toEntry(row) : undefined;
}
