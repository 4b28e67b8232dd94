/**
 * counter-report (agent → host): counter readings the host has not received yet, or a
 * status saying why there are none (docs/protocol.md). The host stores each (agent,
 * reading id) once. Ids, times, counts, texts, counter sets and supplies are checked for
 * type, charset, length and range; one bad field refuses the whole report. What the host
 * does not act on (`sources`, `usage`, extra fields) is carried as received: it is data,
 * stored as the reading's JSON and neutralised where it is shown. Extra fields are kept.
 */
import type { CounterSet, FigureSource, HostFigures, Supply } from '../devices/index.js';
import { type BodyCodec, DECODE_LIMITS, Decoder } from './decoder.js';

export const COUNTER_REPORT = 'counter-report';
export const COUNTER_READING_FORMAT = 'rds-counter-reading/1';
/** ok: readings attached; nothing-new: all were sent before; not-collected: none read yet */
export type CounterStatus = 'ok' | 'not-collected' | 'nothing-new';

/**
 * One device's counters as the host stores them (docs/formats.md: converted to the host's
 * format when stored). Every figure names its source (profile + OIDs); `usage` is what was
 * printed since the previous reading, never negative: a counter that went down is flagged
 * (reset or wrap) instead.
 */
export interface CounterReading {
  format: typeof COUNTER_READING_FORMAT;
  readingId: string;
  deviceId: string;
  serial: string | null;
  model: string | null;
  readAt: string;
  total: number | null;
  mono: number | null;
  colour: number | null;
  byService: Record<string, CounterSet>;
  byPaperSize: Record<string, CounterSet>;
  unit: string | null;
  paperSizeUnit: string | null;
  sources: Record<string, FigureSource>;
  usage: { since: string; total: number | null; mono: number | null; colour: number | null } | null;
  /** first-reading, no-counters, serial-changed, reset:<figure>, wrap:<figure> */
  flags: string[];
  supplies: Supply[];
  /** hosts (HOST-RESOURCES-MIB) only; older agents and printers leave it out */
  host?: HostReading | null;
}

/** A host's figures in one reading, with the restarts counted since its first reading. */
export interface HostReading extends HostFigures {
  restarts: number;
}

export interface CounterReportBody {
  /** a CounterStatus from this rds; the host accepts any code-shaped word (later agents) */
  status: string;
  readings: CounterReading[];
  /** more readings are waiting: the host asks again */
  more: boolean;
}

/** At most this many readings in one counter report (keeps mail far below size limits). */
export const MAX_READINGS_PER_REPORT = 500;
const MAX_READING_JSON = 64 * 1024;

export function encodeCounterReport(body: CounterReportBody): Record<string, unknown> {
  return { status: body.status, readings: body.readings, more: body.more };
}

function counterSets(d: Decoder, value: unknown, field: string): void {
  if (value === undefined || value === null) return;
  const entries = Object.entries(d.object(value, field));
  if (entries.length > DECODE_LIMITS.mapEntries) d.badField(field, `holds ${entries.length} entries (at most ${DECODE_LIMITS.mapEntries})`);
  for (const [name, set] of entries) {
    d.text(name, `${field} name`, 64);
    for (const [k, v] of Object.entries(d.object(set, `${field}.${name}`))) {
      if (k !== 'total' && k !== 'mono' && k !== 'colour') d.malformed(`${field}.${name}.${k}`, `${field}.${name} has an unknown figure`);
      d.count(v, `${field}.${name}.${k}`);
    }
  }
}

function supplies(d: Decoder, value: unknown, field: string): void {
  if (value === undefined || value === null) return;
  for (const [i, entry] of d.list(value, field, DECODE_LIMITS.supplies).entries()) {
    const at = `${field}[${i}]`;
    const s = d.object(entry, at);
    d.text(s.index, `${at}.index`, 64);
    d.optionalText(s.description, `${at}.description`);
    for (const k of ['type', 'class', 'unit', 'levelState'] as const) d.optionalText(s[k], `${at}.${k}`, 64);
    for (const k of ['max', 'level', 'percent'] as const) {
      const v = s[k];
      if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) d.badField(`${at}.${k}`, 'is not a number');
    }
  }
}

/** At most this many disks and applications in one host reading (the agent keeps 64 and 10). */
const MAX_HOST_ROWS = 64;

function percentField(d: Decoder, value: unknown, field: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) d.badField(field, 'is not a percentage (0 to 100)');
}

/** A host reading: every figure a count or a percentage, every text plain and short, lists bounded. */
function hostReading(d: Decoder, value: unknown, at: string): void {
  const h = d.object(value, at);
  for (const k of ['uptimeSeconds', 'processors', 'memorySizeBytes', 'installedSoftware', 'runningProcesses', 'restarts'] as const)
    d.count(h[k], `${at}.${k}`);
  percentField(d, h.cpuLoadPercent, `${at}.cpuLoadPercent`);
  percentField(d, h.memoryUsedPercent, `${at}.memoryUsedPercent`);
  for (const [i, entry] of d.list(h.disks ?? [], `${at}.disks`, MAX_HOST_ROWS).entries()) {
    const disk = d.object(entry, `${at}.disks[${i}]`);
    d.text(disk.index, `${at}.disks[${i}].index`, 64);
    d.text(disk.description, `${at}.disks[${i}].description`, 128);
    for (const k of ['sizeBytes', 'usedBytes'] as const) d.count(disk[k], `${at}.disks[${i}].${k}`);
    percentField(d, disk.usedPercent, `${at}.disks[${i}].usedPercent`);
  }
  for (const [i, entry] of d.list(h.topApplications ?? [], `${at}.topApplications`, MAX_HOST_ROWS).entries()) {
    const app = d.object(entry, `${at}.topApplications[${i}]`);
    d.text(app.name, `${at}.topApplications[${i}].name`, 64);
    for (const k of ['processes', 'memoryKBytes'] as const) d.count(app[k], `${at}.topApplications[${i}].${k}`);
  }
}

function decodeReading(d: Decoder, entry: unknown, at: string): CounterReading {
  const r = d.object(entry, at);
  const size = JSON.stringify(r).length;
  if (size > MAX_READING_JSON) d.badField(at, `is ${size} bytes of JSON (at most ${MAX_READING_JSON})`);
  d.id(r.readingId, `${at}.readingId`);
  d.id(r.deviceId, `${at}.deviceId`);
  d.time(r.readAt, `${at}.readAt`);
  d.optionalText(r.serial, `${at}.serial`, 128);
  for (const k of ['total', 'mono', 'colour'] as const) d.count(r[k], `${at}.${k}`);
  d.optionalText(r.model, `${at}.model`);
  d.optionalText(r.unit, `${at}.unit`, 64);
  d.optionalText(r.paperSizeUnit, `${at}.paperSizeUnit`, 64);
  counterSets(d, r.byService, `${at}.byService`);
  counterSets(d, r.byPaperSize, `${at}.byPaperSize`);
  supplies(d, r.supplies, `${at}.supplies`);
  if (r.host !== undefined && r.host !== null) hostReading(d, r.host, `${at}.host`);
  if (r.flags !== undefined) for (const [j, flag] of d.list(r.flags, `${at}.flags`, 32).entries()) d.text(flag, `${at}.flags[${j}]`, 64);
  // checked field by field above; the rest is carried as received (see the file comment)
  return r as unknown as CounterReading;
}

export function decodeCounterReport(value: unknown, now: Date): CounterReportBody {
  const d: Decoder = new Decoder('counter report', now);
  const b = d.object(value, 'body');
  const status = d.code(b.status, 'status');
  const readings = d.list(b.readings, 'readings', DECODE_LIMITS.readings).map((entry, i) => decodeReading(d, entry, `readings[${i}]`));
  return { status, readings, more: b.more === true };
}

export const counterReport: BodyCodec<CounterReportBody> = { encode: encodeCounterReport, decode: decodeCounterReport };
