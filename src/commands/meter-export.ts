/**
 * `counters export --on DATE` and `--cycle monthly --day N`: meter reads by billing date
 * (docs/service.md), computed in core/service/meter-export.ts, shaped here as CSV or a table.
 */
import { writeCsv } from '../core/csv/csv.js';
import { UsageError } from '../core/errors.js';
import { type CycleRow, cycleRows, histories, type ReadRow, readsOn } from '../core/service/meter-export.js';
import { type MeterReadOptions, monthlyCycle } from '../core/service/meter-reads.js';
import type { Db } from '../core/store/db.js';
import { parseDateArg, parseDurationArg } from './args.js';
import { formatTable, formatTime, formatTimeZoned, timeColumn } from './table.js';
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

const basisText = (basis: { readAt: string; total: number }[] | null) =>
  basis ? basis.map((b) => `${b.total}@${b.readAt}`).join(' ') : '';

const estimated = (read: ReadRow) => (read.total === null ? '-' : `${read.total}${read.status === 'estimated' ? ' (est.)' : ''}`);

function formatReads(reads: ReadRow[], date: number, csv: boolean | undefined): CommandResult {
  const data = { on: new Date(date).toISOString(), reads };
  if (csv) {
    const header = 'agent device serial billing_date status read_at total mono colour method basis flags reason'.split(' ');
    const lines = reads.map((r) => [
      ...[r.agentId, r.deviceId, r.serial, r.date, r.status, r.readAt, r.total, r.mono, r.colour, r.method],
      ...[basisText(r.basis), r.flags.join(' '), r.reason],
    ]);
    return { data, text: writeCsv(header, lines) };
  }
  if (reads.length === 0) return { data, text: 'no devices' };
  const header = ['Agent', 'Device', 'Serial', 'Status', timeColumn('Read at'), 'Total', 'Mono', 'Colour', 'Basis / flags'];
  const cells = reads.map((r) => [
    ...[r.agentId, r.deviceId, r.serial ?? '-', r.status, r.readAt],
    ...[String(r.total ?? '-'), String(r.mono ?? '-'), String(r.colour ?? '-')],
    r.status === 'missing' ? (r.reason ?? '') : [basisText(r.basis), ...r.flags].filter(Boolean).join(' '),
  ]);
  return { data, text: formatTable(header, cells) };
}

function formatCycle(rows: CycleRow[], start: Date, end: Date, day: number, csv: boolean | undefined): CommandResult {
  const data = { cycle: 'monthly', day, periodStart: start.toISOString(), periodEnd: end.toISOString(), rows };
  if (csv) {
    const header = 'agent device serial period_start period_end start_total start_status end_total end_status pages status flags'.split(
      ' ',
    );
    const lines = rows.map((r) => [
      ...[r.agentId, r.deviceId, r.serial, r.periodStart, r.periodEnd, r.start.total, r.start.status],
      ...[r.end.total, r.end.status, r.pages, r.status, r.flags.join(' ')],
    ]);
    return { data, text: writeCsv(header, lines) };
  }
  if (rows.length === 0) return { data, text: 'no devices' };
  const head = `billing cycle ${formatTime(start.toISOString())} .. ${formatTimeZoned(end)} (monthly, day ${day})`;
  const cells = rows.map((r) => [
    r.agentId,
    r.deviceId,
    estimated(r.start),
    estimated(r.end),
    String(r.pages ?? '-'),
    r.status,
    r.flags.join(' '),
  ]);
  return { data, text: [head, formatTable(['Agent', 'Device', 'Start read', 'End read', 'Pages', 'Status', 'Flags'], cells)].join('\n') };
}

export function runMeterExport(db: Db, options: MeterOptions, now: Date): CommandResult {
  const toleranceMs = parseDurationArg(options.tolerance ?? '3d', '--tolerance');
  const maxGapMs = parseDurationArg(options.maxGap ?? '35d', '--max-gap');
  const readOptions: MeterReadOptions = { toleranceMs, maxGapMs, extrapolate: Boolean(options.extrapolate) };
  const on = options.on === undefined ? now : parseDateArg(options.on, '--on');
  const all = histories(db);
  if (options.cycle === undefined) {
    if (options.day !== undefined) throw new UsageError('BAD_OPTION', '--day goes with --cycle monthly');
    return formatReads(readsOn(all, on.getTime(), readOptions), on.getTime(), options.csv);
  }
  if (options.cycle !== 'monthly') throw new UsageError('BAD_OPTION', `--cycle '${options.cycle}': only 'monthly' is supported`);
  const day = Number(options.day ?? '1');
  if (!/^\d{1,2}$/.test(options.day ?? '1') || day < 1 || day > 31)
    throw new UsageError('BAD_OPTION', `--day '${options.day}': give a day of the month from 1 to 31`);
  const { start, end } = monthlyCycle(on, day);
  return formatCycle(cycleRows(all, start, end, readOptions), start, end, day, options.csv);
}
