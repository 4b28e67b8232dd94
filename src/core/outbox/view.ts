/**
 * What `rds outbox list|retry|drop` shows of the outbox (docs/commands.md): the table, one
 * line per item, and the item an operator names. Addresses, kinds and server answers are
 * outside text: neutralised before they are printed.
 */
import { UsageError } from '../errors.js';
import type { Db } from '../store/db.js';
import { showText } from '../text/show.js';
import { formatTable, formatTime, formatTimeZoned, timeColumn } from '../text/table.js';
import { findOutboxEntry, type OutboxEntry } from './outbox.js';

/** `rds outbox list` without --all: sent mail of the last 24 hours. */
export const RECENT_MS = 24 * 60 * 60 * 1000;

export type OutboxCounts = Record<OutboxEntry['state'], number>;

/** The table of `rds outbox list` and how many items are in each state. */
export function outboxTable(items: OutboxEntry[], all: boolean): { counts: OutboxCounts; text: string } {
  const counts: OutboxCounts = { queued: 0, failed: 0, dropped: 0, sent: 0, held: 0 };
  for (const i of items) counts[i.state]++;
  const text =
    items.length === 0
      ? `the outbox is empty (nothing queued, failed or sent in the last 24 hours${all ? '' : '; --all shows every sent mail'})`
      : `${formatTable(
          ['ID', 'Kind', 'To', timeColumn('Created'), 'Attempts', 'State', 'Last server answer'],
          items.map((i) => [
            String(i.seq),
            showText(i.kind),
            showText(i.to.join(',')),
            i.createdAt,
            String(i.attempts),
            i.state === 'sent' ? `sent ${formatTime(i.sentAt)}` : i.state,
            showText(oneLine(i.state === 'failed' || i.state === 'dropped' ? (i.endedReason ?? i.lastError) : i.lastError)),
          ]),
        )}\n${counts.queued} queued, ${counts.failed} failed, ${counts.dropped} dropped, ${counts.sent} sent${all ? '' : ' in the last 24 hours'}`;
  return { counts, text };
}

/** The first line of a server answer, at most 120 characters. */
export function oneLine(text: string | null): string {
  if (!text) return '';
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

/** One item in a sentence: its seq, kind, recipients, message id, when queued, how often tried. */
export function describeEntry(e: OutboxEntry): string {
  return `#${e.seq} ${e.kind} to ${e.to.join(',')} (${e.messageId}, queued ${formatTimeZoned(e.createdAt)}, ${e.attempts} attempt(s))`;
}

/**
 * The item an operator names for `retry` or `drop` (its seq or message id), which must not
 * have been sent: `sentNote` says what that means for this action.
 */
export function unsentEntry(db: Db, id: string | undefined, sentNote: string): OutboxEntry {
  if (!id) throw new UsageError('MISSING_ARGUMENT', 'name the outbox item: its ID or message id from rds outbox list');
  const entry = findOutboxEntry(db, id);
  if (!entry) throw new UsageError('UNKNOWN_OUTBOX_ITEM', `no outbox item '${showText(id.slice(0, 80))}' (rds outbox list shows the IDs)`);
  if (entry.state === 'sent') {
    throw new UsageError('OUTBOX_ALREADY_SENT', `outbox item ${describeEntry(entry)} was sent at ${formatTime(entry.sentAt)}; ${sentNote}`);
  }
  return entry;
}

/** An item as it is in the store now (after a retry or a drop). */
export function entryNow(db: Db, seq: number): OutboxEntry {
  return findOutboxEntry(db, String(seq)) as OutboxEntry;
}
