import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseTally } from '../testing.js';
import { type MeterReading, meterReadOn, monthlyCycle, pagesBetween } from './meter-reads.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-10-01T06:00:00Z');
const opts = { toleranceMs: 3 * DAY, maxGapMs: 35 * DAY, extrapolate: false };

describe('meter read on a billing date', () => {
  const h: MeterReading[] = [
    { at: T0, total: 10_000 },
    { at: T0 + 10 * DAY, total: 11_000 },
    { at: T0 + 20 * DAY, total: 12_000 },
  ];

  it('the reading nearest before the date within the tolerance is the read', () => {
    expect(meterReadOn(h, T0 + 12 * DAY, opts)).toEqual({ status: 'read', at: T0 + 10 * DAY, total: 11_000, reset: false });
  });

  it('outside the tolerance: estimated between the readings around it, with that basis', () => {
    const r = meterReadOn(h, T0 + 15 * DAY, opts);
    expect(r).toEqual({ status: 'estimated', total: 11_500, method: 'interpolated', basis: [h[1], h[2]], reset: false });
  });

  it('after the last reading: missing unless extrapolation is allowed', () => {
    expect(meterReadOn(h, T0 + 25 * DAY, opts).status).toBe('missing');
    expect(meterReadOn(h, T0 + 25 * DAY, { ...opts, extrapolate: true })).toMatchObject({
      status: 'estimated',
      method: 'extrapolated',
      total: 12_500,
    });
  });

  it('no readings at all, readings too far apart, a reset between them: missing with the reason', () => {
    expect(meterReadOn([], T0, opts)).toEqual({ status: 'missing', reason: 'no readings' });
    const far = [h[0] as MeterReading, { at: T0 + 60 * DAY, total: 20_000 }];
    expect(meterReadOn(far, T0 + 30 * DAY, opts)).toMatchObject({ status: 'missing', reason: expect.stringMatching(/too far apart/) });
    const reset = [h[0] as MeterReading, { at: T0 + 20 * DAY, total: 150 }];
    expect(meterReadOn(reset, T0 + 10 * DAY, opts)).toMatchObject({ status: 'missing', reason: expect.stringMatching(/reset/) });
  });

  it('a read lower than the reading before it is flagged reset', () => {
    const swapped = [...h, { at: T0 + 21 * DAY, total: 40 }];
    expect(meterReadOn(swapped, T0 + 22 * DAY, opts)).toEqual({ status: 'read', at: T0 + 21 * DAY, total: 40, reset: true });
  });
});

const historyArb = fc
  .array(
    fc.record({
      dt: fc.oneof(fc.integer({ min: 1, max: 10 * DAY }), fc.integer({ min: 4 * DAY, max: 20 * DAY })),
      pages: fc.integer({ min: 0, max: 5_000 }),
      reset: fc.nat(9),
    }),
    {
      minLength: 0,
      maxLength: 30,
    },
  )
  .map((steps) => {
    let at = T0;
    let total = 1_000;
    return steps.map((s) => {
      at += s.dt;
      total = s.reset === 0 ? s.pages : total + s.pages; // one step in ten a counter reset
      return { at, total };
    });
  });

// a date anywhere in 200 days, or up to 12 days after one of the readings (where reads and estimates are)
const billingDate = fc.oneof(
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 * DAY }).map((offset) => ({ offset })) },
  { weight: 3, arbitrary: fc.record({ reading: fc.nat(), after: fc.integer({ min: 0, max: 12 * DAY }) }) },
);
const dateIn = (history: MeterReading[], when: { offset: number } | { reading: number; after: number }) =>
  'offset' in when || history.length === 0
    ? T0 + ('offset' in when ? when.offset : when.after)
    : (history[when.reading % history.length] as MeterReading).at + when.after;

describe('meter reads: properties', () => {
  it('never negative, an estimate lies between its neighbours, and a device without readings is missing', () => {
    const t = caseTally<'read' | 'interpolated'>();
    const numRuns = 500;
    fc.assert(
      fc.property(historyArb, billingDate, fc.boolean(), (history, when, extrapolate) => {
        const date = dateIn(history, when);
        const r = meterReadOn(history, date, { ...opts, extrapolate });
        if (history.length === 0) expect(r.status).toBe('missing');
        if (r.status === 'missing') return void t.refused();
        expect(r.total).toBeGreaterThanOrEqual(0);
        t.decoded();
        if (r.status === 'estimated' && r.method === 'interpolated') {
          t.count('interpolated');
          const [a, b] = r.basis;
          expect(r.total).toBeGreaterThanOrEqual(a.total);
          expect(r.total).toBeLessThanOrEqual(b.total);
          expect(a.at).toBeLessThanOrEqual(date);
          expect(b.at).toBeGreaterThan(date);
        }
        if (r.status === 'read') {
          expect(date - r.at).toBeLessThanOrEqual(opts.toleranceMs);
          t.count('read');
        }
      }),
      { numRuns },
    );
    t.atLeast('decoded', 0.2, numRuns);
    t.atLeast('interpolated', 0.05, numRuns);
    t.atLeast('read', 0.05, numRuns);
  });

  it('pages between two reads are never negative; a step down flags a reset', () => {
    const t = caseTally<'reset'>();
    const numRuns = 100;
    fc.assert(
      fc.property(historyArb, (history) => {
        fc.pre(history.length >= 2);
        t.decoded();
        const start = history[0] as MeterReading;
        const end = history.at(-1) as MeterReading;
        const used = pagesBetween(history, start, end);
        expect(used.pages).toBeGreaterThanOrEqual(0);
        const wentDown = history.some((r, i) => i > 0 && r.total < (history[i - 1] as MeterReading).total);
        expect(used.reset).toBe(wentDown);
        if (!wentDown) expect(used.pages).toBe(end.total - start.total);
        else t.count('reset');
      }),
      { numRuns },
    );
    t.atLeast('decoded', 1, numRuns);
    t.atLeast('reset', 0.1, numRuns); // ~35% today
  });
});

describe('monthly billing cycle', () => {
  it('day 25: the cycle ending on the last 25th, from the 25th before it', () => {
    const c = monthlyCycle(new Date('2026-12-03T10:00:00Z'), 25);
    expect(c.start.toISOString()).toBe('2026-10-25T23:59:59.999Z');
    expect(c.end.toISOString()).toBe('2026-11-25T23:59:59.999Z');
    expect(monthlyCycle(new Date('2026-11-25T10:00:00Z'), 25).end.toISOString()).toBe('2026-11-25T23:59:59.999Z');
  });

  it('day 31 in a short month is its last day; January wraps to December', () => {
    expect(monthlyCycle(new Date('2026-03-05T00:00:00Z'), 31).end.toISOString()).toBe('2026-02-28T23:59:59.999Z');
    expect(monthlyCycle(new Date('2026-01-10T00:00:00Z'), 5).start.toISOString()).toBe('2025-12-05T23:59:59.999Z');
  });
});
