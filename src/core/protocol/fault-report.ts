/**
 * fault-report (agent → host): raised and cleared device faults, each with its event id
 * (docs/protocol.md). The host stores each (agent, event) once however often it arrives and
 * acks every time. Ids, codes, times and texts are checked for charset, length and range;
 * one bad field refuses the whole report. Extra fields are ignored.
 */
import { type BodyCodec, DECODE_LIMITS, Decoder } from './decoder.js';

export const FAULT_REPORT = 'fault-report';

export type FaultKind = 'raised' | 'cleared';
export const FAULT_SEVERITIES = ['critical', 'warning', 'info'] as const;

/** One reported fault: the raise or the clear of one fault event. */
export interface ReportedFault {
  eventId: string;
  kind: FaultKind;
  deviceId: string;
  code: string;
  subunit: string;
  severity: string;
  /** where the fault was read (e.g. `prtAlertCode 8 (jam)`); older agents may leave it out */
  source?: string;
  raisedAt: string;
  clearedAt: string | null;
  /** this is the one resend of a report the host did not ack */
  resent?: boolean;
}

export interface FaultReportBody {
  reports: ReportedFault[];
}

function encodeFault(f: ReportedFault): Record<string, unknown> {
  return {
    eventId: f.eventId,
    kind: f.kind,
    deviceId: f.deviceId,
    code: f.code,
    subunit: f.subunit,
    severity: f.severity,
    ...(f.source === undefined ? {} : { source: f.source }),
    raisedAt: f.raisedAt,
    clearedAt: f.clearedAt,
    ...(f.resent === undefined ? {} : { resent: f.resent }),
  };
}

export function encodeFaultReport(body: FaultReportBody): Record<string, unknown> {
  return { reports: body.reports.map(encodeFault) };
}

function decodeFault(d: Decoder, entry: unknown, at: string): ReportedFault {
  const f = d.object(entry, at);
  if (f.kind !== 'raised' && f.kind !== 'cleared') d.malformed(`${at}.kind`, `${at}.kind is not raised/cleared`);
  if (typeof f.severity !== 'string' || !(FAULT_SEVERITIES as readonly string[]).includes(f.severity))
    d.badField(`${at}.severity`, 'is not critical/warning/info');
  const clearedAt = d.optionalTime(f.clearedAt, `${at}.clearedAt`);
  const source = d.optionalText(f.source, `${at}.source`, DECODE_LIMITS.longText);
  return {
    eventId: d.id(f.eventId, `${at}.eventId`),
    kind: f.kind,
    deviceId: d.id(f.deviceId, `${at}.deviceId`),
    code: d.code(f.code, `${at}.code`),
    subunit: d.text(f.subunit, `${at}.subunit`, 128),
    severity: f.severity,
    ...(source === undefined ? {} : { source }),
    raisedAt: d.time(f.raisedAt, `${at}.raisedAt`),
    clearedAt,
    ...(typeof f.resent === 'boolean' ? { resent: f.resent } : {}),
  };
}

export function decodeFaultReport(value: unknown, now: Date): FaultReportBody {
  const d: Decoder = new Decoder('fault report', now);
  const b = d.object(value, 'body');
  return { reports: d.list(b.reports, 'reports', DECODE_LIMITS.faults).map((entry, i) => decodeFault(d, entry, `reports[${i}]`)) };
}

export const faultReport: BodyCodec<FaultReportBody> = { encode: encodeFaultReport, decode: decodeFaultReport };
