import type { Clock } from '../clock.js';
import { isRdsError, TransientError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Envelope, MailSender } from '../mail/types.js';
import type { Db } from '../store/db.js';

/**
 * Every outgoing message is written here first, then sent, then marked sent (DESIGN,
 * State): SMTP down means exit 3 and the message goes out on the next run; nothing is
 * lost and nothing is sent twice by rds itself (the payload id makes a resend by the
 * network harmless: receivers drop replays).
 */
export interface OutboxItem {
  seq: number;
  messageId: string;
  kind: string;
  ref: string | null;
  envelope: Envelope;
  raw: Buffer | null;
  compose: string | null;
  attempts: number;
}

export interface EnqueueInput {
  messageId: string;
  kind: string;
  ref?: string;
  envelope: Envelope;
  raw?: Buffer;
  /** a JSON recipe the flush's `build` turns into the raw mail (large mails) */
  compose?: unknown;
}

/** Queue one mail; its `seq`, or undefined when a mail with this message id is queued already. */
export function enqueue(db: Db, item: EnqueueInput, now: Date): number | undefined {
  const info = db
    .prepare(
      `INSERT OR IGNORE INTO outbox (message_id, kind, ref, env_from, env_to, raw, compose, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      item.messageId,
      item.kind,
      item.ref ?? null,
      item.envelope.from,
      item.envelope.to.join(','),
      item.raw ?? null,
      item.compose === undefined ? null : JSON.stringify(item.compose),
      now.toISOString(),
    );
  return info.changes > 0 ? Number(info.lastInsertRowid) : undefined;
}

interface Row {
  seq: number;
  message_id: string;
  kind: string;
  ref: string | null;
  env_from: string;
  env_to: string;
  raw: Buffer | null;
  compose: string | null;
  attempts: number;
}

export function pendingOutbox(db: Db, filter?: { kind?: string; refPrefix?: string }): OutboxItem[] {
  const rows = db
    .prepare(
      `SELECT seq, message_id, kind, ref, env_from, env_to, raw, compose, attempts FROM outbox
       WHERE sent_at IS NULL AND (? IS NULL OR kind = ?) AND (? IS NULL OR ref LIKE ? || '%') ORDER BY seq`,
    )
    .all(filter?.kind ?? null, filter?.kind ?? null, filter?.refPrefix ?? null, filter?.refPrefix ?? null) as Row[];
  return rows.map((r) => ({
    seq: r.seq,
    messageId: r.message_id,
    kind: r.kind,
    ref: r.ref,
    envelope: { from: r.env_from, to: r.env_to.split(',') },
    raw: r.raw,
    compose: r.compose,
    attempts: r.attempts,
  }));
}

export function countPending(db: Db): number {
  return (db.prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL').get() as { n: number }).n;
}

export interface FlushResult {
  sent: OutboxItem[];
  failed: { item: OutboxItem; error: string }[];
  /** set when the server could not be reached: the rest stays queued (exit 3) */
  transient?: TransientError;
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
  build?: (item: OutboxItem) => Promise<Buffer>;
  concurrency?: number;
  onSent?: (item: OutboxItem, error?: string) => void;
  logger: Logger;
  clock: Clock;
}

/**
 * Send queued mail, several at once (the SMTP adapter pools connections). A rejection of
 * one message (5xx) is recorded on it and the rest go on; an unreachable server stops the
 * flush and leaves everything unsent queued for the next run.
 */
export async function flushOutbox(db: Db, sender: MailSender, options: FlushOptions): Promise<FlushResult> {
  const items = options.source ? [] : (options.items ?? pendingOutbox(db));
  const result: FlushResult = { sent: [], failed: [] };
  const markSent = db.prepare('UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE seq = ?');
  const markFailed = db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?');
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
    while (!result.transient && !sourceFailed) {
      const item = await take();
      if (!item || result.transient) return;
      try {
        const raw = item.raw ?? (await (options.build ?? missingBuilder)(item));
        await sender.sendRaw(item.envelope, raw);
        markSent.run(options.clock.now().toISOString(), item.seq);
        result.sent.push(item);
        options.onSent?.(item);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof TransientError) {
          result.transient ??= error;
          markFailed.run(message, item.seq);
          return;
        }
        if (!isRdsError(error)) throw error;
        markFailed.run(message, item.seq);
        result.failed.push({ item, error: message });
        options.onSent?.(item, message);
        options.logger.warn('mail refused', { to: item.envelope.to.join(','), kind: item.kind, error: message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  if (sourceFailed) throw sourceFailed.error;
  return result;
}

async function missingBuilder(item: OutboxItem): Promise<Buffer> {
  throw new Error(`outbox item ${item.messageId} has no raw mail and no builder`);
}
