/**
 * Strict host-side decoding of what agents report about devices (fault-report and
 * counter-report bodies). An agent holds a registered key, so a compromised one can sign
 * anything: every field is checked for type, charset, length and range before a byte is
 * stored, and one bad field refuses the whole report (quarantined with the reason code:
 * BAD_FIELD for an id, code or text outside its charset or length, MALFORMED for a wrong
 * shape). What is stored can then always be listed.
 */
import type { ReportedFault } from '../agent/fault-mail.js';
import { REFUSAL, SecurityError } from '../errors.js';
import { isPlainText } from '../text/show.js';

/** Device ids, event ids and reading ids: the payload id charset (payload.ts), plus `/`. */
const ID_RE = /^[A-Za-z0-9._:@/-]{1,128}$/;
/** Fault codes: the canonical vocabulary's shape (`toner-low`), open to future codes. */
const CODE_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const SEVERITIES = new Set(['critical', 'warning', 'info']);
export const DECODE_LIMITS = {
  faults: 1_000,
  readings: 1_000,
  text: 256,
  longText: 1_024,
  mapEntries: 256,
  supplies: 64,
} as const;
/** Earliest time a device event may carry; the latest is one year after the host's clock. */
const EARLIEST = Date.parse('2000-01-01T00:00:00Z');
const YEAR_MS = 366 * 24 * 3600 * 1000;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** The agent's ReportedFault (its encoder's type) as the host keeps it: `source` may be absent. */
export type DecodedFault = Omit<ReportedFault, 'source' | 'resent'> & { source?: string };

export interface DecodedReading {
  readingId: string;
  deviceId: string;
  readAt: string;
  serial: string | null;
  total: number | null;
  mono: number | null;
  colour: number | null;
  /** the reading as received, re-serialised from the checked object */
  raw: Record<string, unknown>;
}

class Decoder {
  constructor(
    private readonly what: string,
    private readonly now: Date,
  ) {}

  malformed(message: string): never {
    throw new SecurityError(REFUSAL.MALFORMED, `${this.what}: ${message}`);
  }

  badField(field: string, message: string): never {
    throw new SecurityError(REFUSAL.BAD_FIELD, `${this.what}: ${field} ${message}`);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.malformed(`${field} is not an object`);
    return value as Record<string, unknown>;
  }

  list(value: unknown, field: string, max: number): unknown[] {
    if (!Array.isArray(value)) this.malformed(`${field} is not a list`);
    if (value.length > max) this.badField(field, `holds ${value.length} entries (at most ${max})`);
    return value;
  }

  id(value: unknown, field: string): string {
    if (typeof value !== 'string') this.malformed(`${field} is not a string`);
    if (!ID_RE.test(value)) this.badField(field, 'must be 1-128 of A-Z a-z 0-9 . _ : @ / -');
    return value;
  }

  code(value: unknown, field: string): string {
    if (typeof value !== 'string') this.malformed(`${field} is not a string`);
    if (!CODE_RE.test(value)) this.badField(field, 'must be 1-64 of a-z 0-9 . _ - (e.g. toner-low)');
    return value;
  }

  text(value: unknown, field: string, max: number = DECODE_LIMITS.text): string {
    if (typeof value !== 'string') this.malformed(`${field} is not a string`);
    if (value.length > max) this.badField(field, `is ${value.length} characters long (at most ${max})`);
    if (!isPlainText(value)) this.badField(field, 'holds a control or bidi character');
    return value;
  }

  optionalText(value: unknown, field: string, max?: number): string | undefined {
    return value === undefined || value === null ? undefined : this.text(value, field, max);
  }

  time(value: unknown, field: string): string {
    if (typeof value !== 'string') this.malformed(`${field} is not a string`);
    const t = Date.parse(value);
    if (!ISO_RE.test(value) || Number.isNaN(t)) this.badField(field, 'is not an ISO-8601 time (e.g. 2026-12-01T10:00:00Z)');
    if (t < EARLIEST || t > this.now.getTime() + YEAR_MS) this.badField(field, 'is out of range (2000 .. a year from now)');
    return value;
  }

  count(value: unknown, field: string): number | null {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      this.badField(field, 'must be a non-negative integer');
    }
    return value;
  }

  counterSets(value: unknown, field: string): void {
    if (value === undefined || value === null) return;
    const map = this.object(value, field);
    const entries = Object.entries(map);
    if (entries.length > DECODE_LIMITS.mapEntries)
      this.badField(field, `holds ${entries.length} entries (at most ${DECODE_LIMITS.mapEntries})`);
    for (const [name, set] of entries) {
      this.text(name, `${field} name`, 64);
      const s = this.object(set, `${field}.${name}`);
      for (const [k, v] of Object.entries(s)) {
        if (k !== 'total' && k !== 'mono' && k !== 'colour') this.malformed(`${field}.${name} has an unknown figure`);
        this.count(v, `${field}.${name}.${k}`);
      }
    }
  }

  supplies(value: unknown, field: string): void {
    if (value === undefined || value === null) return;
    for (const [i, entry] of this.list(value, field, DECODE_LIMITS.supplies).entries()) {
      const s = this.object(entry, `${field}[${i}]`);
      this.text(s.index, `${field}[${i}].index`, 64);
      this.optionalText(s.description, `${field}[${i}].description`);
      this.optionalText(s.type, `${field}[${i}].type`, 64);
      this.optionalText(s.class, `${field}[${i}].class`, 64);
      this.optionalText(s.unit, `${field}[${i}].unit`, 64);
      this.optionalText(s.levelState, `${field}[${i}].levelState`, 64);
      for (const k of ['max', 'level', 'percent'] as const) {
        const v = s[k];
        if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v)))
          this.badField(`${field}[${i}].${k}`, 'is not a number');
      }
    }
  }
}

export function decodeFaultReport(body: Record<string, unknown>, now: Date): DecodedFault[] {
  const d = new Decoder('fault report', now);
  return d.list(body.reports, 'reports', DECODE_LIMITS.faults).map((entry, i) => {
    const f = d.object(entry, `reports[${i}]`);
    if (f.kind !== 'raised' && f.kind !== 'cleared') d.malformed(`reports[${i}].kind is not raised/cleared`);
    if (typeof f.severity !== 'string' || !SEVERITIES.has(f.severity)) d.badField(`reports[${i}].severity`, 'is not critical/warning/info');
    const clearedAt = f.clearedAt === undefined || f.clearedAt === null ? null : d.time(f.clearedAt, `reports[${i}].clearedAt`);
    const source = d.optionalText(f.source, `reports[${i}].source`, DECODE_LIMITS.longText);
    return {
      eventId: d.id(f.eventId, `reports[${i}].eventId`),
      kind: f.kind as DecodedFault['kind'],
      deviceId: d.id(f.deviceId, `reports[${i}].deviceId`),
      code: d.code(f.code, `reports[${i}].code`),
      subunit: d.text(f.subunit, `reports[${i}].subunit`, 128),
      severity: f.severity as string,
      ...(source === undefined ? {} : { source }),
      raisedAt: d.time(f.raisedAt, `reports[${i}].raisedAt`),
      clearedAt,
    };
  });
}

export function decodeCounterReport(body: Record<string, unknown>, now: Date): { status: string; readings: DecodedReading[] } {
  const d = new Decoder('counter report', now);
  const status = d.code(body.status, 'status');
  const readings = d.list(body.readings, 'readings', DECODE_LIMITS.readings).map((entry, i) => {
    const r = d.object(entry, `readings[${i}]`);
    const at = `readings[${i}]`;
    const size = JSON.stringify(r).length;
    if (size > 64 * 1024) d.badField(at, `is ${size} bytes of JSON (at most 65536)`);
    const decoded: DecodedReading = {
      readingId: d.id(r.readingId, `${at}.readingId`),
      deviceId: d.id(r.deviceId, `${at}.deviceId`),
      readAt: d.time(r.readAt, `${at}.readAt`),
      serial: d.optionalText(r.serial, `${at}.serial`, 128) ?? null,
      total: d.count(r.total, `${at}.total`),
      mono: d.count(r.mono, `${at}.mono`),
      colour: d.count(r.colour, `${at}.colour`),
      raw: r,
    };
    d.optionalText(r.model, `${at}.model`);
    d.optionalText(r.unit, `${at}.unit`, 64);
    d.optionalText(r.paperSizeUnit, `${at}.paperSizeUnit`, 64);
    d.counterSets(r.byService, `${at}.byService`);
    d.counterSets(r.byPaperSize, `${at}.byPaperSize`);
    d.supplies(r.supplies, `${at}.supplies`);
    if (r.flags !== undefined) for (const [j, flag] of d.list(r.flags, `${at}.flags`, 32).entries()) d.text(flag, `${at}.flags[${j}]`, 64);
    return decoded;
  });
  return { status, readings };
}

export interface DecodedHeartbeat {
  devices: { deviceId: string; lastAnsweredAt: string | null }[];
}

/** heartbeat: the devices the agent watches and when each last answered a poll. */
export function decodeHeartbeat(body: Record<string, unknown>, now: Date): DecodedHeartbeat {
  const d = new Decoder('heartbeat', now);
  const devices = d.list(body.devices ?? [], 'devices', DECODE_LIMITS.readings).map((entry, i) => {
    const e = d.object(entry, `devices[${i}]`);
    return {
      deviceId: d.id(e.deviceId, `devices[${i}].deviceId`),
      lastAnsweredAt:
        e.lastAnsweredAt === undefined || e.lastAnsweredAt === null ? null : d.time(e.lastAnsweredAt, `devices[${i}].lastAnsweredAt`),
    };
  });
  return { devices };
}
