import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
  .array(fc.record({ dt: fc.integer({ min: 1, max: 10 * DAY }), pages: fc.integer({ min: 0, max: 5_000 }), reset: fc.boolean() }), {
    minLength: 0,
    maxLength: 30,
  })
  .map((steps) => {
    let at = T0;
    let total = 1_000;
    return steps.map((s) => {
      at += s.dt;
      total = s.reset && Math.random() < 0.2 ? s.pages : total + s.pages;
      return { at, total };
    });
  });

describe('meter reads: properties', () => {
  it('never negative, an estimate lies between its neighbours, and a device without readings is missing', () => {
    fc.assert(
      fc.property(historyArb, fc.integer({ min: 0, max: 200 * DAY }), fc.boolean(), (history, offset, extrapolate) => {
        const date = T0 + offset;
        const r = meterReadOn(history, date, { ...opts, extrapolate });
        if (history.length === 0) expect(r.status).toBe('missing');
        if (r.status === 'missing') return;
        expect(r.total).toBeGreaterThanOrEqual(0);
        if (r.status === 'estimated' && r.method === 'interpolated') {
          const [a, b] = r.basis;
          expect(r.total).toBeGreaterThanOrEqual(a.total);
          expect(r.total).toBeLessThanOrEqual(b.total);
          expect(a.at).toBeLessThanOrEqual(date);
          expect(b.at).toBeGreaterThan(date);
        }
        if (r.status === 'read') expect(date - r.at).toBeLessThanOrEqual(opts.toleranceMs);
      }),
      { numRuns: 500 },
    );
  });

  it('pages between two reads are never negative; a step down flags a reset', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        fc.pre(history.length >= 2);
        const start = history[0] as MeterReading;
        const end = history.at(-1) as MeterReading;
        const used = pagesBetween(history, start, end);
        expect(used.pages).toBeGreaterThanOrEqual(0);
        const wentDown = history.some((r, i) => i > 0 && r.total < (history[i - 1] as MeterReading).total);
        expect(used.reset).toBe(wentDown);
        if (!wentDown) expect(used.pages).toBe(end.total - start.total);
      }),
    );
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
