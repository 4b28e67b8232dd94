/**
 * Supplies as a service desk sees them: what kind a supply is, how much is left, when it
 * was replaced, and when it runs out. Pure functions over a level history; the host store
 * and the commands feed them.
 */
import type { SupplyKind, Thresholds } from './settings.js';

export const DAY_MS = 86_400_000;

/** What an agent reports of one supply (prtMarkerSuppliesTable, decoded on the agent). */
export interface ReportedSupply {
  index: string;
  description?: string;
  type?: string;
  class?: string;
  percent?: number;
}

/** toner, drum, waste, maintenance (fuser, transfer, developer, kits) or other, by RFC 3805 type, class and name. */
export function classifySupply(s: { description?: string | undefined; type?: string | undefined; class?: string | undefined }): SupplyKind {
  const type = (s.type ?? '').toLowerCase();
  const name = (s.description ?? '').toLowerCase();
  if (s.class === 'receptacle' || type.startsWith('waste') || /waste|collection|used toner/.test(name)) return 'waste';
  if (type === 'opc' || /drum|photoconductor|\bopc\b|imaging unit/.test(name)) return 'drum';
  if (
    [
      'fuser',
      'developer',
      'transferunit',
      'cleanerunit',
      'fusercleaningpad',
      'coronawire',
      'fuseroil',
      'fuseroilwick',
      'fuseroiler',
    ].includes(type) ||
    /fus(er|ing)|transfer|developer|maintenance|kit|cleaner|belt|roller/.test(name)
  )
    return 'maintenance';
  if (
    ['toner', 'tonercartridge', 'ink', 'inkcartridge', 'inkribbon', 'solidwax', 'ribbonwax'].includes(type) ||
    /toner|ink|cartridge/.test(name)
  )
    return 'toner';
  return 'other';
}

/**
 * What is left, in percent: a container's level; for a receptacle (waste toner) the agent
 * reports fullness, so what is left is the space: 100 − fullness. Undefined when unknown.
 */
export function remainingPercent(s: ReportedSupply): number | undefined {
  if (typeof s.percent !== 'number' || !Number.isFinite(s.percent)) return undefined;
  const p = Math.min(100, Math.max(0, s.percent));
  return s.class === 'receptacle' ? 100 - p : p;
}

export type SupplyState = 'ok' | 'low' | 'empty';

export function supplyState(level: number, t: Thresholds): SupplyState {
  if (level <= t.empty) return 'empty';
  if (level <= t.low) return 'low';
  return 'ok';
}

export interface LevelReading {
  /** ms since the epoch */
  at: number;
  level: number;
}

/** A level jump up by at least `jump` points between consecutive readings: a new cartridge. */
export function findReplacements(history: readonly LevelReading[], jump: number): { at: number; from: number; to: number }[] {
  const sorted = [...history].sort((a, b) => a.at - b.at);
  const found: { at: number; from: number; to: number }[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as LevelReading;
    const cur = sorted[i] as LevelReading;
    if (cur.level - prev.level >= jump) found.push({ at: cur.at, from: prev.level, to: cur.level });
  }
  return found;
}

/** The readings since the last replacement (the current cartridge's life), oldest first. */
export function currentLife(history: readonly LevelReading[], jump: number): LevelReading[] {
  const sorted = [...history].sort((a, b) => a.at - b.at);
  const last = findReplacements(sorted, jump).at(-1);
  return last ? sorted.filter((r) => r.at >= last.at) : sorted;
}

const median = (values: number[] | Float64Array): number => {
  const s = Float64Array.from(values).sort(); // a typed array sorts numerically, natively
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/**
 * Theil–Sen: the median of the slopes of every pair of readings at distinct times, and the
 * median intercept for it. Robust to a shaken cartridge's bounce (a few readings up then
 * down again move the median little, where least squares would swing). Levels per ms.
 */
export function theilSen(points: readonly LevelReading[]): { slope: number; intercept: number } | undefined {
  const slopes = new Float64Array((points.length * (points.length - 1)) / 2);
  let n = 0;
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const a = points[i] as LevelReading;
      const b = points[j] as LevelReading;
      if (a.at !== b.at) slopes[n++] = (b.level - a.level) / (b.at - a.at);
    }
  }
  if (n === 0) return undefined;
  const slope = median(slopes.subarray(0, n));
  return { slope, intercept: median(points.map((p) => p.level - slope * p.at)) };
}

/** At most this many points go into the O(n²) Theil–Sen fit. */
export const MAX_FIT_POINTS = 64;

/**
 * Hourly readings over a cartridge's life are hundreds of points: past MAX_FIT_POINTS they
 * are grouped into that many equal spans of time, each standing for the median time and
 * the median level of its readings (a bounce stays a minority inside its span too).
 */
export function thin(points: readonly LevelReading[], max = MAX_FIT_POINTS): LevelReading[] {
  if (points.length <= max) return [...points];
  const first = (points[0] as LevelReading).at;
  const span = (points.at(-1) as LevelReading).at - first || 1;
  const buckets: LevelReading[][] = Array.from({ length: max }, () => []);
  for (const p of points) (buckets[Math.min(max - 1, Math.floor(((p.at - first) / span) * max))] as LevelReading[]).push(p);
  return buckets.filter((b) => b.length > 0).map((b) => ({ at: median(b.map((p) => p.at)), level: median(b.map((p) => p.level)) }));
}

export type Forecast =
  | { status: 'forecast'; emptyAt: string; days: number; perDay: number; readings: number; since: string }
  | { status: 'not-enough-history'; readings: number; spanDays: number }
  | { status: 'not-declining'; readings: number; since: string }
  | { status: 'empty'; emptyAt: string; days: 0 };

/**
 * When the current cartridge reaches 0 %: a Theil–Sen line through the readings since the
 * last replacement. "Not enough history" below two readings at distinct times or a span
 * shorter than `minSpanMs`; a flat or rising line is "not declining". Days count from `now`.
 */
export function forecastEmpty(history: readonly LevelReading[], options: { jump: number; minSpanMs: number; now: number }): Forecast {
  const life = currentLife(history, options.jump);
  const latest = life.at(-1);
  if (latest && latest.level <= 0) return { status: 'empty', emptyAt: new Date(latest.at).toISOString(), days: 0 };
  const times = new Set(life.map((r) => r.at));
  const span = life.length > 0 ? (latest as LevelReading).at - (life[0] as LevelReading).at : 0;
  if (times.size < 2 || span < options.minSpanMs) {
    return { status: 'not-enough-history', readings: life.length, spanDays: Math.round((span / DAY_MS) * 10) / 10 };
  }
  const since = new Date((life[0] as LevelReading).at).toISOString();
  const fit = theilSen(thin(life)) as { slope: number; intercept: number };
  if (!(fit.slope < 0)) return { status: 'not-declining', readings: life.length, since };
  const emptyAtMs = Math.round(-fit.intercept / fit.slope);
  const days = Math.max(0, Math.round(((emptyAtMs - options.now) / DAY_MS) * 10) / 10);
  return {
    status: 'forecast',
    emptyAt: new Date(emptyAtMs).toISOString(),
    days,
    perDay: Math.round(-fit.slope * DAY_MS * 100) / 100,
    readings: life.length,
    since,
  };
}
