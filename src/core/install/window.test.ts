import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UsageError } from '../errors.js';
import { type InstallWindow, isOpen, nextOpening, parseInstallWindow } from './window.js';

const MINUTE = 60_000;
const at = (iso: string) => new Date(iso);
const w = (text: string) => parseInstallWindow(text);

function messageOf(text: string): string {
  try {
    parseInstallWindow(text);
  } catch (error) {
    return `${(error as UsageError).code}: ${(error as UsageError).message}`;
  }
  return 'no error';
}

describe('parseInstallWindow', () => {
  it('reads HH:MM-HH:MM into minutes of the day, crossing midnight or not', () => {
    expect(w('22:00-06:00')).toEqual({ text: '22:00-06:00', start: 1320, end: 360 });
    expect(w('00:00-23:59')).toEqual({ text: '00:00-23:59', start: 0, end: 1439 });
    expect(w('09:30-10:15')).toEqual({ text: '09:30-10:15', start: 570, end: 615 });
  });

  it.each([
    ['22-06', 'is not HH:MM-HH:MM'],
    ['22:00 - 06:00', 'is not HH:MM-HH:MM'],
    ['2:00-06:00', 'is not HH:MM-HH:MM'],
    ['', 'is not HH:MM-HH:MM'],
    ['24:00-06:00', 'has an hour over 23 (24)'],
    ['22:00-06:60', 'has a minute over 59 (60)'],
    ['06:00-06:00', 'starts where it ends'],
  ])('%j is one config error naming the key and the value (%s)', (text, why) => {
    expect(messageOf(text)).toMatch(
      new RegExp(`^CONFIG_INVALID: installWindow ${JSON.stringify(JSON.stringify(text)).slice(1, -1)} ${why.replace(/[()]/g, '\\$&')}`),
    );
    expect(messageOf(text)).toContain('expected HH:MM-HH:MM in 24-hour local time, e.g. "22:00-06:00"');
  });

  it('names the flag when given one (rds init --install-window)', () => {
    expect(() => parseInstallWindow('7-9', '--install-window', 'BAD_INSTALL_WINDOW')).toThrow(/^--install-window "7-9" is not HH:MM-HH:MM/);
  });
});

describe('isOpen and nextOpening, examples', () => {
  const night = w('22:00-06:00');

  it('crossing midnight: open from the start (included) to the end (excluded)', () => {
    expect(isOpen(at('2026-12-07T21:59:59Z'), night, 'UTC')).toBe(false);
    expect(isOpen(at('2026-12-07T22:00:00Z'), night, 'UTC')).toBe(true);
    expect(isOpen(at('2026-12-08T03:00:00Z'), night, 'UTC')).toBe(true);
    expect(isOpen(at('2026-12-08T05:59:59Z'), night, 'UTC')).toBe(true);
    expect(isOpen(at('2026-12-08T06:00:00Z'), night, 'UTC')).toBe(false);
  });

  it('local time is the zone given (the agent TZ): 22:00 in Tokyo is 13:00 UTC', () => {
    expect(isOpen(at('2026-12-07T13:00:00Z'), night, 'Asia/Tokyo')).toBe(true);
    expect(isOpen(at('2026-12-07T12:59:00Z'), night, 'Asia/Tokyo')).toBe(false);
    expect(nextOpening(at('2026-12-07T03:00:00Z'), night, 'Asia/Tokyo')).toEqual(at('2026-12-07T13:00:00Z'));
  });

  it('the next opening is today or tomorrow, at the start, to the minute', () => {
    expect(nextOpening(at('2026-12-07T12:09:03.5Z'), night, 'UTC')).toEqual(at('2026-12-07T22:00:00Z'));
    expect(nextOpening(at('2026-12-07T06:00:00Z'), night, 'UTC')).toEqual(at('2026-12-07T22:00:00Z'));
    expect(nextOpening(at('2026-12-07T21:59:59.999Z'), night, 'UTC')).toEqual(at('2026-12-07T22:00:00Z'));
    expect(nextOpening(at('2026-12-07T22:00:00Z'), w('09:00-10:00'), 'UTC')).toEqual(at('2026-12-08T09:00:00Z'));
  });

  it('DST spring forward: a start in the skipped hour opens when the clock jumps past it', () => {
    // Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC)
    expect(nextOpening(at('2026-03-28T23:30:00Z'), w('02:30-04:00'), 'Europe/Berlin')).toEqual(at('2026-03-29T01:00:00Z'));
    // a window wholly inside the skipped hour does not exist that day: the next day's
    expect(nextOpening(at('2026-03-28T23:30:00Z'), w('02:10-02:50'), 'Europe/Berlin')).toEqual(at('2026-03-30T00:10:00Z'));
  });

  it('DST fall back: the first 02:30 of the repeated hour opens it, at the real instant', () => {
    // Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); the first 02:30 is 00:30 UTC
    expect(nextOpening(at('2026-10-24T22:00:00Z'), w('02:30-02:45'), 'Europe/Berlin')).toEqual(at('2026-10-25T00:30:00Z'));
    // after the repeated hour, 03:30 CET is 02:30 UTC
    expect(nextOpening(at('2026-10-24T22:00:00Z'), w('03:30-04:00'), 'Europe/Berlin')).toEqual(at('2026-10-25T02:30:00Z'));
  });
});

// Zones with DST, half- and quarter-hour offsets, a 30-minute DST shift (Lord Howe), and none.
const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'America/St_Johns',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'America/Santiago',
] as const;

const windowArb = fc
  .tuple(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 0, max: 1439 }))
  .filter(([s, e]) => s !== e)
  .map(([s, e]): InstallWindow => {
    const hm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    return parseInstallWindow(`${hm(s)}-${hm(e)}`);
  });

// times in the two days before a Sunday of the months DST changes in are over-weighted
const timeArb = fc.oneof(
  fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
  fc
    .tuple(
      fc.integer({ min: 2000, max: 2039 }),
      fc.constantFrom(2, 3, 8, 9, 10),
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 0, max: 48 * 60 * 60 * 1000 }),
    )
    .map(([y, m, week, before]) => {
      const first = new Date(Date.UTC(y, m, 1));
      const sunday = Date.UTC(y, m, 1 + ((7 - first.getUTCDay()) % 7) + 7 * week, 12);
      return sunday - before;
    }),
);

const DST_ZONES = ['Europe/Berlin', 'America/New_York', 'America/St_Johns', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/Santiago'];

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
/** The zone's offset at `t` as text ("GMT+02:00"), read independently of window.ts. */
function offsetText(t: number, tz: string): string | undefined {
  let f = offsetFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' });
    offsetFormats.set(tz, f);
  }
  return f.format(t).split(' ').at(-1);
}

const changesCache = new Map<string, number[]>();

/** The instants (to the minute) in `year` at which zone `tz` changes its offset. */
function offsetChanges(tz: string, year: number): number[] {
  const key = `${tz} ${year}`;
  const cached = changesCache.get(key);
  if (cached) return cached;
  const days: number[] = [];
  changesCache.set(key, days);
  for (let t = Date.UTC(year, 0, 2); t < Date.UTC(year + 1, 0, 1); t += 86_400_000) {
    if (offsetText(t, tz) === offsetText(t - 86_400_000, tz)) continue;
    let lo = t - 86_400_000;
    let hi = t;
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / MINUTE / 2) * MINUTE;
      if (offsetText(mid, tz) === offsetText(lo, tz)) lo = mid;
      else hi = mid;
    }
    days.push(hi);
  }
  return days;
}

/** The first whole minute after `now` at which the window is open, found minute by minute. */
function bruteNextOpening(now: number, window: InstallWindow, tz: string): number {
  let t = Math.floor(now / MINUTE) * MINUTE + MINUTE;
  for (let i = 0; i < 3 * 1440; i++, t += MINUTE) if (isOpen(new Date(t), window, tz)) return t;
  throw new Error('no opening within 3 days');
}

describe('isOpen and nextOpening, properties', () => {
  it('nextOpening is the first open minute after now, found minute by minute (so: in the future, open, none earlier)', () => {
    let closedNow = 0;
    let crossesMidnight = 0;
    fc.assert(
      fc.property(timeArb, windowArb, fc.constantFrom(...ZONES), (now, window, tz) => {
        const next = nextOpening(new Date(now), window, tz).getTime();
        expect(next).toBe(bruteNextOpening(now, window, tz));
        expect(next).toBeGreaterThan(now);
        expect(isOpen(new Date(next), window, tz)).toBe(true);
        if (!isOpen(new Date(now), window, tz)) closedNow++;
        if (window.start > window.end) crossesMidnight++;
      }),
      { numRuns: 300 },
    );
    expect(closedNow).toBeGreaterThan(50);
    expect(crossesMidnight).toBeGreaterThan(50);
  }, 60_000);

  it('the same across DST changes: now is up to 24 h before the zone changes its offset', () => {
    let acrossOffsetChange = 0;
    const nearChange = fc
      .tuple(
        fc.constantFrom(...DST_ZONES),
        fc.integer({ min: 2000, max: 2039 }),
        fc.nat(1),
        fc.integer({ min: 1, max: 24 * 60 * 60 * 1000 }),
      )
      .filter(([tz, year]) => offsetChanges(tz, year).length > 0)
      .map(([tz, year, which, before]) => {
        const changes = offsetChanges(tz, year);
        return { tz, now: (changes[which % changes.length] as number) - before };
      });
    fc.assert(
      fc.property(nearChange, windowArb, ({ tz, now }, window) => {
        const next = nextOpening(new Date(now), window, tz).getTime();
        expect(next).toBe(bruteNextOpening(now, window, tz));
        if (offsetText(now, tz) !== offsetText(next, tz)) acrossOffsetChange++;
      }),
      { numRuns: 200 },
    );
    expect(acrossOffsetChange).toBeGreaterThan(25); // about a quarter: a closed window whose opening lies past the change
  }, 60_000);

  it('in a fixed-offset zone isOpen is the window test on UTC minutes plus the offset', () => {
    let open = 0;
    let closed = 0;
    fc.assert(
      fc.property(timeArb, windowArb, fc.integer({ min: -12, max: 14 }), (now, window, hours) => {
        // Etc/GMT-5 is UTC+5 (POSIX sign)
        const tz = hours === 0 ? 'UTC' : `Etc/GMT${hours > 0 ? '-' : '+'}${Math.abs(hours)}`;
        const d = new Date(now);
        const minute = ((((d.getUTCHours() + hours) * 60 + d.getUTCMinutes()) % 1440) + 1440) % 1440;
        const expected =
          window.start < window.end ? minute >= window.start && minute < window.end : minute >= window.start || minute < window.end;
        expect(isOpen(d, window, tz)).toBe(expected);
        if (expected) open++;
        else closed++;
      }),
      { numRuns: 2000 },
    );
    expect(open).toBeGreaterThan(200);
    expect(closed).toBeGreaterThan(200);
  });

  it('parseInstallWindow takes every valid HH:MM-HH:MM and refuses every other text with CONFIG_INVALID', () => {
    let valid = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 14 }),
          fc
            .tuple(fc.nat(29), fc.nat(69), fc.nat(29), fc.nat(69))
            .map((n) => n.map((x) => String(x).padStart(2, '0')))
            .map(([a, b, c, d]) => `${a}:${b}-${c}:${d}`),
        ),
        (text) => {
          const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text);
          const ok =
            !!m &&
            Number(m[1]) < 24 &&
            Number(m[3]) < 24 &&
            Number(m[2]) < 60 &&
            Number(m[4]) < 60 &&
            `${m[1]}${m[2]}` !== `${m[3]}${m[4]}`;
          if (ok) {
            const parsed = parseInstallWindow(text);
            expect(parsed.start).toBe(Number(m[1]) * 60 + Number(m[2]));
            expect(parsed.end).toBe(Number(m[3]) * 60 + Number(m[4]));
            valid++;
          } else {
            expect(messageOf(text)).toMatch(/^CONFIG_INVALID: installWindow "/);
            refused++;
          }
        },
      ),
      { numRuns: 2000 },
    );
    expect(valid).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});
