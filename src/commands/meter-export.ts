/**
 * `counters export --on DATE` and `--cycle monthly --day N`: meter reads by billing date
 * (docs/service.md). One row per device the host knows, whatever it has: a read, an
 * estimate with its basis, or missing with the reason.
 */
import { writeCsv } from '../core/csv/csv.js';
import { UsageError } from '../core/errors.js';
import {
  type MeterRead,
  type MeterReading,
  type MeterReadOptions,
  meterReadOn,
  monthlyCycle,
  pagesBetween,
} from '../core/service/meter-reads.js';
import type { Db } from '../core/store/db.js';
import { parseDateArg, parseDurationArg } from './args.js';
import { formatTable, formatTime } from './table.js';
import type { CommandResult } from './types.js';

export interface MeterOptions {
  on?: string;
  cycle?: string;
  day?: string;
  tolerance?: string;
  maxGap?: string;
  extrapolate?: boolean;
  csv?: boolean;
}

interface Stored {
  agent_id: string;
  device_id: string;
  serial: string | null;
  read_at: string;
  total: number | null;
  mono: number | null;
  colour: number | null;
  reading_id: string;
}

interface DeviceHistory {
  agentId: string;
  deviceId: string;
  serial: string | null;
  readings: (MeterReading & { mono: number | null; colour: number | null; readAt: string })[];
}

function histories(db: Db): DeviceHistory[] {
  const devices = db
    .prepare(
      `SELECT agent_id, device_id FROM host_counters UNION SELECT agent_id, device_id FROM host_device_seen ORDER BY agent_id, device_id`,
    )
    .all() as { agent_id: string; device_id: string }[];
  const rows = db
    .prepare('SELECT agent_id, device_id, serial, read_at, total, mono, colour, reading_id FROM host_counters ORDER BY read_at')
    .all() as Stored[];
  const byDevice = new Map<string, DeviceHistory>();
  for (const d of devices)
    byDevice.set(`${d.agent_id}\u0000${d.device_id}`, { agentId: d.agent_id, deviceId: d.device_id, serial: null, readings: [] });
  for (const r of rows) {
    const h = byDevice.get(`${r.agent_id}\u0000${r.device_id}`) as DeviceHistory;
    const at = Date.parse(r.read_at);
    if (r.total === null || Number.isNaN(at)) continue;
    h.serial = r.serial ?? h.serial;
    h.readings.push({ at, total: r.total, mono: r.mono, colour: r.colour, readAt: r.read_at, readingId: r.reading_id });
  }
  return [...byDevice.values()];
}

/** A figure beside total (mono, colour) for a read: the reading's, or interpolated over the same basis. */
function figure(h: DeviceHistory, read: MeterRead, date: number, key: 'mono' | 'colour'): number | null {
  if (read.status === 'read') return h.readings.find((r) => r.at === read.at)?.[key] ?? null;
  if (read.status !== 'estimated') return null;
  const [a, b] = read.basis.map((x) => h.readings.find((r) => r.at === x.at));
  const va = a?.[key];
  const vb = b?.[key];
  if (va === null || va === undefined || vb === null || vb === undefined || !a || !b || vb < va || a.at === b.at) return null;
  return Math.max(0, Math.floor(va + ((vb - va) * (date - a.at)) / (b.at - a.at)));
}

function readRow(h: DeviceHistory, read: MeterRead, date: number) {
  const base = { agentId: h.agentId, deviceId: h.deviceId, serial: h.serial, date: new Date(date).toISOString(), status: read.status };
  if (read.status === 'missing')
    return {
      ...base,
      readAt: null,
      total: null,
      mono: null,
      colour: null,
      basis: null,
      method: null,
      flags: [] as string[],
      reason: read.reason,
    };
  return {
    ...base,
    readAt: read.status === 'read' ? new Date(read.at).toISOString() : null,
    total: read.total,
    mono: figure(h, read, date, 'mono'),
    colour: figure(h, read, date, 'colour'),
    method: read.status === 'estimated' ? read.method : null,
    basis: read.status === 'estimated' ? read.basis.map((b) => ({ readAt: new Date(b.at).toISOString(), total: b.total })) : null,
    flags: read.status === 'read' && read.reset ? ['reset'] : [],
    reason: null,
  };
}

const basisText = (basis: { readAt: string; total: number }[] | null) =>
  basis ? basis.map((b) => `${b.total}@${b.readAt}`).join(' ') : '';

export function runMeterExport(db: Db, options: MeterOptions, now: Date): CommandResult {
  const toleranceMs = parseDurationArg(options.tolerance ?? '3d', '--tolerance');
  const maxGapMs = parseDurationArg(options.maxGap ?? '35d', '--max-gap');
  const readOptions: MeterReadOptions = { toleranceMs, maxGapMs, extrapolate: Boolean(options.extrapolate) };
  const on = options.on === undefined ? now : parseDateArg(options.on, '--on');
  const all = histories(db);
  if (options.cycle === undefined) {
    if (options.day !== undefined) throw new UsageError('BAD_OPTION', '--day goes with --cycle monthly');
    const date = on.getTime();
    const reads = all.map((h) => readRow(h, meterReadOn(h.readings, date, readOptions), date));
    if (options.csv) {
      const header = [
        'agent',
        'device',
        'serial',
        'billing_date',
        'status',
        'read_at',
        'total',
        'mono',
        'colour',
        'method',
        'basis',
        'flags',
        'reason',
      ];
      const lines = reads.map((r) => [
        r.agentId,
        r.deviceId,
        r.serial,
        r.date,
        r.status,
        r.readAt,
        r.total,
        r.mono,
        r.colour,
        r.method,
        basisText(r.basis),
        r.flags.join(' '),
        r.reason,
      ]);
      return { data: { on: new Date(date).toISOString(), reads }, text: writeCsv(header, lines) };
    }
    const text =
      reads.length === 0
        ? 'no devices'
        : formatTable(
            ['Agent', 'Device', 'Serial', 'Status', 'Read at', 'Total', 'Mono', 'Colour', 'Basis / flags'],
            reads.map((r) => [
              r.agentId,
              r.deviceId,
              r.serial ?? '-',
              r.status,
              formatTime(r.readAt),
              String(r.total ?? '-'),
              String(r.mono ?? '-'),
              String(r.colour ?? '-'),
              r.status === 'missing' ? (r.reason ?? '') : [basisText(r.basis), ...r.flags].filter(Boolean).join(' '),
            ]),
          );
    return { data: { on: new Date(date).toISOString(), reads }, text };
  }
  if (options.cycle !== 'monthly') throw new UsageError('BAD_OPTION', `--cycle '${options.cycle}': only 'monthly' is supported`);
  const day = Number(options.day ?? '1');
  if (!/^\d{1,2}$/.test(options.day ?? '1') || day < 1 || day > 31)
    throw new UsageError('BAD_OPTION', `--day '${options.day}': give a day of the month from 1 to 31`);
  const { start, end } = monthlyCycle(on, day);
  const rows = all.map((h) => {
    const a = meterReadOn(h.readings, start.getTime(), readOptions);
    const b = meterReadOn(h.readings, end.getTime(), readOptions);
    const startRow = readRow(h, a, start.getTime());
    const endRow = readRow(h, b, end.getTime());
    const inCycle = h.readings.some((r) => r.at > start.getTime() && r.at <= end.getTime());
    const flags: string[] = [];
    if (!inCycle) flags.push('no-reading-in-cycle');
    let pages: number | null = null;
    if (a.status !== 'missing' && b.status !== 'missing') {
      const used = pagesBetween(
        h.readings,
        { at: a.status === 'read' ? a.at : start.getTime(), total: a.total },
        { at: b.status === 'read' ? b.at : end.getTime(), total: b.total },
      );
      pages = used.pages;
      if (used.reset) flags.push('reset');
    }
    if (a.status === 'estimated' || b.status === 'estimated') flags.push('estimated');
    const status =
      a.status === 'missing' || b.status === 'missing' || !inCycle
        ? 'missing'
        : flags.includes('reset')
          ? 'reset'
          : flags.includes('estimated')
            ? 'estimated'
            : 'read';
    return {
      agentId: h.agentId,
      deviceId: h.deviceId,
      serial: h.serial,
      periodStart: start.toISOString(),
      periodEnd: end.toISOString(),
      start: startRow,
      end: endRow,
      pages,
      status,
      flags,
    };
  });
  const data = { cycle: 'monthly', day, periodStart: start.toISOString(), periodEnd: end.toISOString(), rows };
  if (options.csv) {
    const header = [
      'agent',
      'device',
      'serial',
      'period_start',
      'period_end',
      'start_total',
      'start_status',
      'end_total',
      'end_status',
      'pages',
      'status',
      'flags',
    ];
    const lines = rows.map((r) => [
      r.agentId,
      r.deviceId,
      r.serial,
      r.periodStart,
      r.periodEnd,
      r.start.total,
      r.start.status,
      r.end.total,
      r.end.status,
      r.pages,
      r.status,
      r.flags.join(' '),
    ]);
    return { data, text: writeCsv(header, lines) };
  }
  const text =
    rows.length === 0
      ? 'no devices'
      : [
          `billing cycle ${formatTime(start.toISOString())} .. ${formatTime(end.toISOString())} (monthly, day ${day})`,
          formatTable(
            ['Agent', 'Device', 'Start read', 'End read', 'Pages', 'Status', 'Flags'],
            rows.map((r) => [
              r.agentId,
              r.deviceId,
              r.start.total === null ? '-' : `${r.start.total}${r.start.status === 'estimated' ? ' (est.)' : ''}`,
              r.end.total === null ? '-' : `${r.end.total}${r.end.status === 'estimated' ? ' (est.)' : ''}`,
              String(r.pages ?? '-'),
              r.status,
              r.flags.join(' '),
            ]),
          ),
        ].join('\n');
  return { data, text };
}
