/**
 * The agent's install window (docs/install.md#install-window): `"HH:MM-HH:MM"` in the agent's
 * local time (its TZ), start included, end excluded; a start after the end crosses midnight
 * (`"22:00-06:00"`). Pure: the time and the zone are passed in. DST-safe: a window whose start
 * falls into a skipped hour opens when the clock jumps past it, and local times are read
 * through the zone's rules (Intl), never by adding a fixed offset.
 */
import { UsageError } from '../errors.js';

export interface InstallWindow {
  /** as written, e.g. "22:00-06:00" */
  text: string;
  /** minutes after local midnight */
  start: number;
  end: number;
}

const MINUTE = 60_000;
const DAY_MINUTES = 24 * 60;
const FORMAT = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;

/** Why `text` is not a window, or undefined when it is one. */
function flaw(text: string): string | undefined {
  const m = FORMAT.exec(text);
  if (!m) return 'is not HH:MM-HH:MM';
  const [, h1, m1, h2, m2] = m.map(Number) as [number, number, number, number, number];
  if (h1 > 23 || h2 > 23) return `has an hour over 23 (${h1 > 23 ? h1 : h2})`;
  if (m1 > 59 || m2 > 59) return `has a minute over 59 (${m1 > 59 ? m1 : m2})`;
  if (h1 === h2 && m1 === m2) return 'starts where it ends (an empty window; leave installWindow out to install at any time)';
  return undefined;
}

/**
 * Parse `"HH:MM-HH:MM"` (24-hour local time). A bad value is one UsageError naming `where`
 * (the config key or the flag) and the value.
 */
export function parseInstallWindow(text: string, where = 'installWindow', code = 'CONFIG_INVALID'): InstallWindow {
  const why = typeof text === 'string' ? flaw(text) : 'is not text';
  if (why) {
    throw new UsageError(code, `${where} ${JSON.stringify(text)} ${why}; expected HH:MM-HH:MM in 24-hour local time, e.g. "22:00-06:00"`);
  }
  const [, h1, m1, h2, m2] = (FORMAT.exec(text) as RegExpExecArray).map(Number) as [number, number, number, number, number];
  return { text, start: h1 * 60 + m1, end: h2 * 60 + m2 };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string | undefined): Intl.DateTimeFormat {
  const key = tz ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(key, f);
  }
  return f;
}

/** The local wall clock at `t` in zone `tz` (undefined: this process's zone), to the minute. */
function wallClock(t: number, tz: string | undefined): { minuteOfDay: number; asUtc: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(t)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const { year = 1970, month = 1, day = 1, hour = 0, minute = 0 } = parts;
  return { minuteOfDay: hour * 60 + minute, asUtc: Date.UTC(year, month - 1, day, hour, minute) };
}

/** Local time minus UTC at `t`, in minutes (whole-minute zones; seconds of old LMT offsets dropped). */
function offsetAt(t: number, tz: string | undefined): number {
  const floor = Math.floor(t / MINUTE) * MINUTE;
  return Math.round((wallClock(floor, tz).asUtc - floor) / MINUTE);
}

function openAtMinute(window: InstallWindow, minute: number): boolean {
  return window.start < window.end ? minute >= window.start && minute < window.end : minute >= window.start || minute < window.end;
}

/** Whether the window is open at `now` in zone `tz` (undefined: this process's zone). */
export function isOpen(now: Date, window: InstallWindow, tz?: string): boolean {
  return openAtMinute(window, wallClock(now.getTime(), tz).minuteOfDay);
}

/** The first minute in (from, to] at which the zone's offset differs from the one at `from`. */
function firstOffsetChange(from: number, to: number, tz: string | undefined): number {
  const before = offsetAt(from, tz);
  let lo = from;
  let hi = to;
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / MINUTE / 2) * MINUTE;
    if (offsetAt(mid, tz) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The first whole minute after `now` at which the window is open, in zone `tz`. Jumps from
 * one local time to the window's start; when the zone's offset changes on the way (DST),
 * it stops at the change and goes on from there, so a start in a skipped hour opens at the
 * jump, and a repeated hour is not counted twice.
 */
export function nextOpening(now: Date, window: InstallWindow, tz?: string): Date {
  let t = Math.floor(now.getTime() / MINUTE) * MINUTE + MINUTE;
  for (let i = 0; i < 64; i++) {
    const minute = wallClock(t, tz).minuteOfDay;
    if (openAtMinute(window, minute)) return new Date(t);
    const next = t + ((window.start - minute + DAY_MINUTES) % DAY_MINUTES) * MINUTE;
    t = offsetAt(next, tz) === offsetAt(t, tz) ? next : firstOffsetChange(t, next, tz);
  }
  throw new Error(`install window ${window.text}: no opening found after ${now.toISOString()} in zone ${tz ?? 'local'}`);
}
