/**
 * Meter reads by billing date (docs/service.md): for a date D, the reading nearest before D
 * within a tolerance; else an estimate, linear between the readings around D (flagged, with
 * the two readings used as its basis); else, when allowed, a linear extrapolation from the
 * last two readings; else missing — listed, never skipped. A counter that went down (a
 * reset or a swapped device) is flagged and never billed negative.
 */
export interface MeterReading {
  /** ms since the epoch */
  at: number;
  total: number;
  readingId?: string;
}

export interface MeterReadOptions {
  toleranceMs: number;
  /** readings further apart than this give no estimate */
  maxGapMs: number;
  extrapolate: boolean;
}

export type MeterRead =
  | { status: 'read'; at: number; total: number; reset: boolean }
  | {
      status: 'estimated';
      total: number;
      method: 'interpolated' | 'extrapolated';
      basis: [MeterReading, MeterReading];
      reset: false;
    }
  | { status: 'missing'; reason: string };

const sortByTime = (readings: readonly MeterReading[]) => [...readings].sort((a, b) => a.at - b.at);

export function meterReadOn(history: readonly MeterReading[], date: number, options: MeterReadOptions): MeterRead {
  const sorted = sortByTime(history);
  const before = sorted.filter((r) => r.at <= date);
  const after = sorted.filter((r) => r.at > date);
  const last = before.at(-1);
  if (last && date - last.at <= options.toleranceMs) {
    const prev = before.at(-2);
    return { status: 'read', at: last.at, total: last.total, reset: prev !== undefined && last.total < prev.total };
  }
  const next = after[0];
  if (last && next) {
    if (next.at - last.at > options.maxGapMs)
      return { status: 'missing', reason: 'readings around the date are too far apart to estimate' };
    if (next.total < last.total) return { status: 'missing', reason: 'the counter went down between the readings around the date (reset)' };
    const total = last.total + Math.floor(((next.total - last.total) * (date - last.at)) / (next.at - last.at));
    return { status: 'estimated', total, method: 'interpolated', basis: [last, next], reset: false };
  }
  if (options.extrapolate) {
    const pair = last ? before.slice(-2) : after.slice(0, 2);
    const [a, b] = pair;
    if (a && b && b.at > a.at && b.total >= a.total) {
      const from = last ? b : a;
      if (Math.abs(date - from.at) <= options.maxGapMs) {
        const slope = (b.total - a.total) / (b.at - a.at);
        const total = Math.max(0, Math.floor(from.total + slope * (date - from.at)));
        return { status: 'estimated', total, method: 'extrapolated', basis: [a, b], reset: false };
      }
    }
  }
  if (sorted.length === 0) return { status: 'missing', reason: 'no readings' };
  return { status: 'missing', reason: last ? 'no reading near the date and none after it' : 'no reading before the date' };
}

/** Pages printed between two reads: the sum of every step up; a step down is a reset, counted 0. */
export function pagesBetween(
  history: readonly MeterReading[],
  start: { at: number; total: number },
  end: { at: number; total: number },
): { pages: number; reset: boolean } {
  const inside = sortByTime(history).filter((r) => r.at > start.at && r.at < end.at);
  const points = [start, ...inside, end];
  let pages = 0;
  let reset = false;
  for (let i = 1; i < points.length; i++) {
    const step = (points[i] as MeterReading).total - (points[i - 1] as MeterReading).total;
    if (step < 0) reset = true;
    else pages += step;
  }
  return { pages, reset };
}

/** The billing cycle ending on day `day` (1-28… clamped to the month's length) at or before `date`. */
export function monthlyCycle(date: Date, day: number): { start: Date; end: Date } {
  const endOfDay = (y: number, m: number) => {
    const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    return new Date(Date.UTC(y, m, Math.min(day, last), 23, 59, 59, 999));
  };
  let y = date.getUTCFullYear();
  let m = date.getUTCMonth();
  let end = endOfDay(y, m);
  if (end.getTime() > endOfDayOf(date)) {
    m -= 1;
    if (m < 0) {
      m = 11;
      y -= 1;
    }
    end = endOfDay(y, m);
  }
  let sm = m - 1;
  let sy = y;
  if (sm < 0) {
    sm = 11;
    sy -= 1;
  }
  return { start: endOfDay(sy, sm), end };
}

function endOfDayOf(d: Date): number {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 23, 59, 59, 999);
}
