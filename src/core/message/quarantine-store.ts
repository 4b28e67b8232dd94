/**
 * The quarantine records of the state store (what was refused and why), and which of them a
 * release can help: only a refusal that a change here can cure (a key registered or pinned
 * since, an address fixed, a newer rds, a larger size limit, a clock put right). A bad
 * signature, a replay, an expired or tampered message stays refused whatever is changed,
 * so releasing it would only quarantine it again.
 */
import { UsageError } from '../errors.js';
import type { Db } from '../store/db.js';

export const RELEASABLE: ReadonlySet<string> = new Set([
  'UNKNOWN_SENDER',
  'UNKNOWN_KEY',
  'SENDER_MISMATCH',
  'SENDER_ID_MISMATCH',
  'UNKNOWN_TYPE',
  'UNSUPPORTED_FORMAT',
  'OVERSIZE',
  'FROM_FUTURE',
]);

export interface QuarantineRecord {
  id: number;
  receivedAt: string;
  code: string;
  reason: string;
  from: string | null;
  subject: string | null;
  messageId: string | null;
  payloadId: string | null;
  location: string | null;
  releasedAt: string | null;
  releasable: boolean;
}

interface Row {
  seq: number;
  received_at: string;
  reason_code: string;
  reason: string;
  from_addr: string | null;
  subject: string | null;
  mail_message_id: string | null;
  payload_id: string | null;
  location: string | null;
  released_at: string | null;
}

const fromRow = (r: Row): QuarantineRecord => ({
  id: r.seq,
  receivedAt: r.received_at,
  code: r.reason_code,
  reason: r.reason,
  from: r.from_addr,
  subject: r.subject,
  messageId: r.mail_message_id,
  payloadId: r.payload_id,
  location: r.location,
  releasedAt: r.released_at,
  releasable: r.released_at === null && RELEASABLE.has(r.reason_code),
});

/** Newest first. */
export function listQuarantine(db: Db): QuarantineRecord[] {
  return (db.prepare('SELECT * FROM quarantine ORDER BY seq DESC').all() as Row[]).map(fromRow);
}

export function parseQuarantineId(text: string | undefined): number {
  if (!text || !/^[1-9]\d{0,15}$/.test(text)) {
    throw new UsageError('BAD_QUARANTINE_ID', `"${text ?? ''}" is not a quarantine id (a number from rds quarantine list)`);
  }
  return Number(text);
}

export function findQuarantine(db: Db, id: number): QuarantineRecord {
  const row = db.prepare('SELECT * FROM quarantine WHERE seq = ?').get(id) as Row | undefined;
  if (!row) throw new UsageError('UNKNOWN_QUARANTINE', `no quarantined mail ${id} (rds quarantine list shows the ids)`);
  return fromRow(row);
}

export function markReleased(db: Db, id: number, now: Date): void {
  db.prepare('UPDATE quarantine SET released_at = ? WHERE seq = ?').run(now.toISOString(), id);
}
