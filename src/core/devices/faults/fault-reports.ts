/**
 * Report and acknowledgement bookkeeping for the mail layer (docs/protocol.md#message-types:
 * fault-report, fault-ack):
 * a report is pending until mailed, reported until the host acks it; with no ack within the
 * ack window it is resent ONCE, and with still no ack after another window it is recorded as
 * unacknowledged. An event has two reports: its raise and its clear. The mail layer picks
 * pending reports, mails them (outbox first), and calls the mark* functions; nothing here
 * sends mail or reads the clock on its own.
 */
import type { Db } from '../../store/db.js';
import { statement } from '../../store/statement.js';
import { type FaultEventRow, type FaultReport, type ReportKind, toFaultEvent } from './fault-store.js';

const COLUMNS = {
  raised: { state: 'report_state', reportedAt: 'reported_at', resentAt: 'resent_at', ackedAt: 'acked_at', messageId: 'report_message_id' },
  cleared: {
    state: 'clear_report_state',
    reportedAt: 'clear_reported_at',
    resentAt: 'clear_resent_at',
    ackedAt: 'clear_acked_at',
    messageId: 'clear_report_message_id',
  },
} as const;
const KINDS: readonly ReportKind[] = ['raised', 'cleared'];

function select(db: Db, kind: ReportKind, where: string, ...args: unknown[]): FaultReport[] {
  const rows = statement(db, `SELECT * FROM fault_events WHERE ${where} ORDER BY id`).all(...args) as FaultEventRow[];
  return rows.map((row) => ({ kind, event: toFaultEvent(row) }));
}

/** Reports not yet mailed, oldest first: raises before clears of the same age. */
export function listPendingFaultReports(db: Db): FaultReport[] {
  return KINDS.flatMap((kind) => select(db, kind, `${COLUMNS[kind].state} = 'pending'`)).sort(
    (a, b) => reportTime(a).localeCompare(reportTime(b)) || (a.kind === 'raised' ? -1 : 1),
  );
}

const reportTime = (r: FaultReport) => (r.kind === 'raised' ? r.event.raisedAt : (r.event.clearedAt ?? ''));

export function markFaultReported(db: Db, eventId: string, kind: ReportKind, messageId: string, at: Date): boolean {
  const c = COLUMNS[kind];
  const sql = `UPDATE fault_events SET ${c.state} = 'reported', ${c.reportedAt} = ?, ${c.messageId} = ? WHERE event_id = ? AND ${c.state} = 'pending'`;
  return statement(db, sql).run(at.toISOString(), messageId, eventId).changes > 0;
}

/** The one resend: records the resend's message id (acks may cite either). */
export function markFaultResent(db: Db, eventId: string, kind: ReportKind, messageId: string, at: Date): boolean {
  const c = COLUMNS[kind];
  const sql = `UPDATE fault_events SET ${c.resentAt} = ?, ${c.messageId} = ? WHERE event_id = ? AND ${c.state} = 'reported' AND ${c.resentAt} IS NULL`;
  return statement(db, sql).run(at.toISOString(), messageId, eventId).changes > 0;
}

/** An ack for one event's report. A late ack after giving up still counts. */
export function markFaultAcked(db: Db, eventId: string, kind: ReportKind, at: Date): boolean {
  const c = COLUMNS[kind];
  const sql = `UPDATE fault_events SET ${c.state} = 'acked', ${c.ackedAt} = ? WHERE event_id = ? AND ${c.state} IN ('reported', 'unacknowledged')`;
  return statement(db, sql).run(at.toISOString(), eventId).changes > 0;
}

/** An ack citing a report message: acks every report that message carried. */
export function markFaultAckedByMessage(db: Db, messageId: string, at: Date): number {
  let changed = 0;
  for (const kind of KINDS) {
    const c = COLUMNS[kind];
    const sql = `UPDATE fault_events SET ${c.state} = 'acked', ${c.ackedAt} = ? WHERE ${c.messageId} = ? AND ${c.state} IN ('reported', 'unacknowledged')`;
    changed += statement(db, sql).run(at.toISOString(), messageId).changes;
  }
  return changed;
}

export function markFaultUnacknowledged(db: Db, eventId: string, kind: ReportKind): boolean {
  const c = COLUMNS[kind];
  const sql = `UPDATE fault_events SET ${c.state} = 'unacknowledged' WHERE event_id = ? AND ${c.state} = 'reported' AND ${c.resentAt} IS NOT NULL`;
  return statement(db, sql).run(eventId).changes > 0;
}

/**
 * Reports whose ack window (e.g. 30 min) has passed at `now`: `resend` were sent once and
 * get their one resend; `giveUp` were already resent and become unacknowledged.
 */
export function listOverdueFaultReports(db: Db, now: Date, ackWindowMs: number): { resend: FaultReport[]; giveUp: FaultReport[] } {
  const cutoff = new Date(now.getTime() - ackWindowMs).toISOString();
  const resend: FaultReport[] = [];
  const giveUp: FaultReport[] = [];
  for (const kind of KINDS) {
    const c = COLUMNS[kind];
    resend.push(...select(db, kind, `${c.state} = 'reported' AND ${c.resentAt} IS NULL AND ${c.reportedAt} <= ?`, cutoff));
    giveUp.push(...select(db, kind, `${c.state} = 'reported' AND ${c.resentAt} IS NOT NULL AND ${c.resentAt} <= ?`, cutoff));
  }
  return { resend, giveUp };
}
