/**
 * Page counts per device for the report: the readings over time (one point per day, the
 * day's last reading) for the chart, and the pages used per calendar month (UTC), reusing
 * the billing-cycle computation of `rds counters export --cycle` (service/meter-export.ts).
 */
import { cycleRows, type DeviceHistory, histories } from '../service/meter-export.js';
import type { MeterReadOptions } from '../service/meter-reads.js';
import type { Db } from '../store/db.js';

/** the defaults of `rds counters export --cycle` */
export const READ_OPTIONS: MeterReadOptions = { toleranceMs: 3 * 86_400_000, maxGapMs: 35 * 86_400_000, extrapolate: false };
/** at most this many months in the usage table, the latest ones */
export const MAX_MONTHS = 12;

export interface CounterPoint {
  at: number;
  total: number;
  mono: number | null;
  colour: number | null;
}

export interface MonthUsage {
  /** YYYY-MM, or `YYYY-MM (to date)` for the month under way */
  month: string;
  pages: number | null;
  mono: number | null;
  colour: number | null;
  /** read / estimated / reset / missing, as `counters export --cycle` says */
  status: string;
}

export interface DeviceUsage {
  agentId: string;
  deviceId: string;
  serial: string | null;
  points: CounterPoint[];
  months: MonthUsage[];
}

/** One point per UTC day: the last reading of that day. */
export function dailyPoints(h: DeviceHistory, sinceMs: number): CounterPoint[] {
  const byDay = new Map<string, CounterPoint>();
  for (const r of h.readings) {
    if (r.at < sinceMs) continue;
    const day = new Date(r.at).toISOString().slice(0, 10);
    const prev = byDay.get(day);
    if (!prev || prev.at <= r.at) byDay.set(day, { at: r.at, total: r.total, mono: r.mono, colour: r.colour });
  }
  return [...byDay.values()].sort((a, b) => a.at - b.at);
}

const endOfMonth = (y: number, m: number) => new Date(Date.UTC(y, m + 1, 0, 23, 59, 59, 999));

/** The calendar months (UTC) from the first one holding a reading to the month of `now`, the latest MAX_MONTHS. */
export function monthsBetween(firstMs: number, now: Date): { label: string; start: Date; end: Date }[] {
  const first = new Date(firstMs);
  const months: { label: string; start: Date; end: Date }[] = [];
  for (let y = first.getUTCFullYear(), m = first.getUTCMonth(); y * 12 + m <= now.getUTCFullYear() * 12 + now.getUTCMonth(); m++) {
    if (m === 12) {
      m = 0;
      y++;
    }
    months.push({ label: `${y}-${String(m + 1).padStart(2, '0')}`, start: endOfMonth(y, m - 1), end: endOfMonth(y, m) });
  }
  return months.slice(-MAX_MONTHS);
}

const diff = (a: number | null, b: number | null) => (a === null || b === null || b < a ? null : b - a);

export function monthlyUsage(h: DeviceHistory, sinceMs: number, now: Date): MonthUsage[] {
  const first = h.readings.find((r) => r.at >= sinceMs);
  if (!first) return [];
  return monthsBetween(first.at, now).map(({ label, start, end }) => {
    // the month under way: up to now
    const toDate = end.getTime() > now.getTime();
    const row = cycleRows([h], start, toDate ? now : end, READ_OPTIONS)[0] as ReturnType<typeof cycleRows>[number];
    return {
      month: toDate ? `${label} (to date)` : label,
      pages: row.pages,
      mono: diff(row.start.mono, row.end.mono),
      colour: diff(row.start.colour, row.end.colour),
      status: row.status,
    };
  });
}

export function deviceUsage(db: Db, since: string | null, now: Date): DeviceUsage[] {
  const sinceMs = since ? Date.parse(since) : Number.NEGATIVE_INFINITY;
  return histories(db)
    .filter((h) => h.readings.length > 0)
    .map((h) => ({
      agentId: h.agentId,
      deviceId: h.deviceId,
      serial: h.serial,
      points: dailyPoints(h, sinceMs),
      months: monthlyUsage(h, sinceMs, now),
    }))
    .filter((d) => d.points.length > 0);
}
