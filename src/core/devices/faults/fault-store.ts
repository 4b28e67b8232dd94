import type { Db } from '../../store/db.js';
import { statement } from '../../store/statement.js';
import type { FaultCode, FaultHint, FaultSnapshot, Severity } from '../types.js';
import type { DeviceFaultState, OpenFault, StepResult } from './fault-state.js';

export type ReportState = 'pending' | 'reported' | 'acked' | 'unacknowledged';
export type ReportKind = 'raised' | 'cleared';

export interface ReportStatus {
  state: ReportState;
  reportedAt?: string;
  resentAt?: string;
  ackedAt?: string;
  messageId?: string;
}

export interface FaultEvent {
  eventId: string;
  deviceId: string;
  code: FaultCode;
  subunit: string;
  severity: Severity;
  source: string;
  detail?: string;
  raisedAt: string;
  lastSeenAt: string;
  cleanPolls: number;
  clearedAt?: string;
  report: ReportStatus;
  /** Absent while open, and for events closed without a report (device removed). */
  clearReport?: ReportStatus;
}

/** A report the mail layer must send (or has sent): an event raised or cleared. */
export interface FaultReport {
  kind: ReportKind;
  event: FaultEvent;
}

export interface FaultEventRow {
  event_id: string;
  device_id: string;
  code: FaultCode;
  subunit: string;
  severity: Severity;
  source: string;
  detail: string | null;
  raised_at: string;
  last_seen_at: string;
  clean_polls: number;
  cleared_at: string | null;
  report_state: ReportState;
  reported_at: string | null;
  resent_at: string | null;
  acked_at: string | null;
  report_message_id: string | null;
  clear_report_state: ReportState | null;
  clear_reported_at: string | null;
  clear_resent_at: string | null;
  clear_acked_at: string | null;
  clear_report_message_id: string | null;
}

const u = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export function toFaultEvent(r: FaultEventRow): FaultEvent {
  return {
    eventId: r.event_id,
    deviceId: r.device_id,
    code: r.code,
    subunit: r.subunit,
    severity: r.severity,
    source: r.source,
    detail: u(r.detail),
    raisedAt: r.raised_at,
    lastSeenAt: r.last_seen_at,
    cleanPolls: r.clean_polls,
    clearedAt: u(r.cleared_at),
    report: {
      state: r.report_state,
      reportedAt: u(r.reported_at),
      resentAt: u(r.resent_at),
      ackedAt: u(r.acked_at),
      messageId: u(r.report_message_id),
    },
    clearReport: r.clear_report_state
      ? {
          state: r.clear_report_state,
          reportedAt: u(r.clear_reported_at),
          resentAt: u(r.clear_resent_at),
          ackedAt: u(r.clear_acked_at),
          messageId: u(r.clear_report_message_id),
        }
      : undefined,
  };
}

export interface DeviceFaultInput {
  state: DeviceFaultState;
  hint: FaultHint;
}

interface PollStateRow {
  device_id: string;
  consecutive_failures: number;
  alert_events: number | null;
  alert_rows: number | null;
  uptime: number | null;
}

/**
 * Every device's state-machine input and driver hint, read in two queries before a pass:
 * a site of 2,000 devices asks the store twice, not twice per device. A device never
 * polled gets an empty state.
 */
export function loadFaultStates(db: Db): (deviceId: string) => DeviceFaultInput {
  const open = new Map<string, OpenFault[]>();
  const rows = statement(
    db,
    'SELECT device_id, code, subunit, severity, clean_polls AS cleanPolls FROM fault_events WHERE cleared_at IS NULL ORDER BY id',
  ).all() as Array<OpenFault & { device_id: string }>;
  for (const { device_id, ...fault } of rows) {
    const list = open.get(device_id);
    if (list) list.push(fault);
    else open.set(device_id, [fault]);
  }
  const polls = new Map<string, PollStateRow>();
  const sql = 'SELECT device_id, consecutive_failures, alert_events, alert_rows, uptime FROM device_poll_state';
  for (const row of statement(db, sql).all() as PollStateRow[]) polls.set(row.device_id, row);
  return (deviceId) => {
    const poll = polls.get(deviceId);
    return {
      state: { open: open.get(deviceId) ?? [], consecutiveFailures: poll?.consecutive_failures ?? 0 },
      hint: { alertEvents: u(poll?.alert_events ?? null), alertRows: u(poll?.alert_rows ?? null), uptime: u(poll?.uptime ?? null) },
    };
  };
}

export interface StepContext {
  deviceId: string;
  now: string;
  newId: () => string;
  snapshot?: FaultSnapshot;
  error?: string;
}

/**
 * Persist one step of the state machine in one transaction: events raised, seen, missed or
 * cleared, and the device's poll state. Returns the reports this step created. Inside a
 * transaction already (a pass writes every device's step in one), it writes in that one:
 * no savepoint per device.
 */
export function persistFaultStep(db: Db, step: StepResult, ctx: StepContext): FaultReport[] {
  const { deviceId, now, snapshot } = ctx;
  const openWhere = 'device_id = ? AND code = ? AND subunit = ? AND cleared_at IS NULL';
  const created: Array<{ kind: ReportKind; eventId: string }> = [];
  const write = () => {
    for (const t of step.transitions) {
      if (t.kind === 'raised') {
        const eventId = ctx.newId();
        statement(
          db,
          `INSERT INTO fault_events (event_id, device_id, code, subunit, severity, source, detail, raised_at, last_seen_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(eventId, deviceId, t.fault.code, t.fault.subunit, t.fault.severity, t.fault.source, t.fault.detail ?? null, now, now);
        created.push({ kind: 'raised', eventId });
      } else if (t.kind === 'seen') {
        statement(
          db,
          `UPDATE fault_events SET last_seen_at = ?, clean_polls = 0, severity = ?, detail = coalesce(?, detail) WHERE ${openWhere}`,
        ).run(now, t.fault.severity, t.fault.detail ?? null, deviceId, t.fault.code, t.fault.subunit);
      } else if (t.kind === 'missed') {
        statement(db, `UPDATE fault_events SET clean_polls = ? WHERE ${openWhere}`).run(t.cleanPolls, deviceId, t.code, t.subunit);
      } else {
        const row = statement(db, `SELECT event_id FROM fault_events WHERE ${openWhere}`).get(deviceId, t.code, t.subunit) as
          | { event_id: string }
          | undefined;
        if (!row) continue;
        statement(db, "UPDATE fault_events SET cleared_at = ?, clear_report_state = 'pending' WHERE event_id = ?").run(now, row.event_id);
        created.push({ kind: 'cleared', eventId: row.event_id });
      }
    }
    const ok = snapshot !== undefined;
    statement(
      db,
      `INSERT INTO device_poll_state (device_id, consecutive_failures, last_poll_at, last_ok_at, last_error, alert_events, alert_rows, uptime)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (device_id) DO UPDATE SET
         consecutive_failures = excluded.consecutive_failures,
         last_poll_at = excluded.last_poll_at,
         last_ok_at = coalesce(excluded.last_ok_at, last_ok_at),
         last_error = excluded.last_error,
         alert_events = CASE WHEN ${ok ? 1 : 0} THEN excluded.alert_events ELSE alert_events END,
         alert_rows = CASE WHEN ${ok ? 1 : 0} AND ${snapshot?.alertsWalked ? 1 : 0} THEN excluded.alert_rows ELSE alert_rows END,
         uptime = coalesce(excluded.uptime, uptime)`,
    ).run(
      deviceId,
      step.state.consecutiveFailures,
      now,
      ok ? now : null,
      ok ? null : (ctx.error ?? 'poll failed'),
      snapshot?.alertEvents ?? null,
      snapshot?.alertsWalked ? snapshot.alerts.length : null,
      snapshot?.uptime ?? null,
    );
  };
  if (db.inTransaction) write();
  else db.transaction(write).immediate();
  const byId = statement(db, 'SELECT * FROM fault_events WHERE event_id = ?');
  return created.map(({ kind, eventId }) => ({ kind, event: toFaultEvent(byId.get(eventId) as FaultEventRow) }));
}

export function listFaultEvents(db: Db, filter: { open?: boolean; deviceId?: string } = {}): FaultEvent[] {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.open) where.push('cleared_at IS NULL');
  if (filter.deviceId) {
    where.push('device_id = ?');
    args.push(filter.deviceId);
  }
  const sql = `SELECT * FROM fault_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
  return (statement(db, sql).all(...args) as FaultEventRow[]).map(toFaultEvent);
}
