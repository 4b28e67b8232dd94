/**
 * Counter readings, kept durably until the host asks for them (docs/protocol.md#message-types:
 * the agent keeps them, the host asks). The host's format is the stored JSON; the figure columns and flags
 * are there for queries and for people looking at the database.
 */
import type { Db } from '../../store/db.js';
import { statement } from '../../store/statement.js';
import type { CounterReading } from './counter-reading.js';

export function insertCounterReading(db: Db, runId: string, reading: CounterReading): void {
  statement(
    db,
    `INSERT INTO counter_readings (reading_id, run_id, device_id, serial, read_at, total, mono, colour, flags, reading)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    reading.readingId,
    runId,
    reading.deviceId,
    reading.serial,
    reading.readAt,
    reading.total,
    reading.mono,
    reading.colour,
    reading.flags.join(','),
    JSON.stringify(reading),
  );
}

export function latestCounterReading(db: Db, deviceId: string): CounterReading | undefined {
  const row = statement(db, 'SELECT reading FROM counter_readings WHERE device_id = ? ORDER BY id DESC LIMIT 1').get(deviceId) as
    | { reading: string }
    | undefined;
  return row ? (JSON.parse(row.reading) as CounterReading) : undefined;
}

/** Readings the host has not been sent yet, oldest first (what a counter-request answers). */
export function listUnsentCounterReadings(db: Db, options: { limit?: number } = {}): CounterReading[] {
  const rows = db
    .prepare('SELECT reading FROM counter_readings WHERE sent_at IS NULL ORDER BY id LIMIT ?')
    .all(options.limit ?? -1) as Array<{
    reading: string;
  }>;
  return rows.map((r) => JSON.parse(r.reading) as CounterReading);
}

/** After the mail carrying them is in the outbox/sent: they will not be offered again. */
export function markCounterReadingsSent(db: Db, readingIds: readonly string[], messageId: string, at: Date): number {
  const mark = statement(db, 'UPDATE counter_readings SET sent_at = ?, sent_message_id = ? WHERE reading_id = ? AND sent_at IS NULL');
  return db.transaction(() => readingIds.reduce((n, id) => n + mark.run(at.toISOString(), messageId, id).changes, 0)).immediate();
}

/** Whether any reading was ever collected: the host is told "not collected yet" if not. */
export function hasCounterReadings(db: Db): boolean {
  return statement(db, 'SELECT 1 FROM counter_readings LIMIT 1').get() !== undefined;
}

export function listCounterReadings(db: Db, filter: { deviceId?: string; since?: string } = {}): CounterReading[] {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.deviceId) {
    where.push('device_id = ?');
    args.push(filter.deviceId);
  }
  if (filter.since) {
    where.push('read_at >= ?');
    args.push(filter.since);
  }
  const sql = `SELECT reading FROM counter_readings ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
  return (statement(db, sql).all(...args) as Array<{ reading: string }>).map((r) => JSON.parse(r.reading) as CounterReading);
}
