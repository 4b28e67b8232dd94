import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseTally } from '../testing.js';
import { DEFAULT_THRESHOLDS } from './settings.js';
import {
  classifySupply,
  currentLife,
  DAY_MS,
  findReplacements,
  forecastEmpty,
  remainingPercent,
  supplyState,
  theilSen,
  thin,
} from './supplies.js';
import { levelHistory, sharpSupplies } from './testing.js';

const T0 = Date.parse('2026-11-01T08:00:00Z');

describe('supply kinds and levels', () => {
  it('classifies the Sharp walk: toners, drums, developers and fuser as maintenance, the waste box', () => {
    const kinds = Object.fromEntries(sharpSupplies().map((s) => [s.description, classifySupply(s)]));
    expect(kinds).toMatchObject({
      'Cyan Toner': 'toner',
      'Magenta Toner': 'toner',
      'Black Toner': 'toner',
      'Waste Toner': 'waste',
      'Black Photoconductive Drum': 'drum',
      'Cyan Developer': 'maintenance',
      'Fusing Unit': 'maintenance',
    });
    expect(classifySupply({ description: 'Drum Unit', type: 'other' })).toBe('drum');
    expect(classifySupply({ description: 'Maintenance Kit' })).toBe('maintenance');
    expect(classifySupply({ description: 'Staples', type: 'staples' })).toBe('other');
  });

  it('remaining % is the level for a container and the space left for a receptacle', () => {
    const magenta = sharpSupplies().find((s) => s.description === 'Magenta Toner');
    expect(remainingPercent(magenta as never)).toBe(19);
    expect(remainingPercent({ index: '5', class: 'receptacle', percent: 75 })).toBe(25);
    expect(remainingPercent({ index: '1' })).toBeUndefined();
  });

  it('thresholds: the Sharp walk Magenta Toner at 19 % is low, 10 % is empty, 21 % is ok', () => {
    expect(supplyState(19, DEFAULT_THRESHOLDS)).toBe('low');
    expect(supplyState(20, DEFAULT_THRESHOLDS)).toBe('low');
    expect(supplyState(10, DEFAULT_THRESHOLDS)).toBe('empty');
    expect(supplyState(21, DEFAULT_THRESHOLDS)).toBe('ok');
  });
});

describe('replacement', () => {
  it('a jump up by at least the margin is a replacement; a bounce is not', () => {
    const h = [
      { at: T0, level: 30 },
      { at: T0 + DAY_MS, level: 25 },
      { at: T0 + 2 * DAY_MS, level: 31 }, // shaken cartridge
      { at: T0 + 3 * DAY_MS, level: 22 },
      { at: T0 + 4 * DAY_MS, level: 98 }, // new cartridge
      { at: T0 + 5 * DAY_MS, level: 96 },
    ];
    expect(findReplacements(h, 25)).toEqual([{ at: T0 + 4 * DAY_MS, from: 22, to: 98 }]);
    expect(currentLife(h, 25).map((r) => r.level)).toEqual([98, 96]);
  });
});

describe('forecast', () => {
  it('not enough history: one reading, two at the same time, or a span under the minimum', () => {
    const opts = { jump: 25, minSpanMs: 3 * DAY_MS, now: T0 + 10 * DAY_MS };
    expect(forecastEmpty([], opts).status).toBe('not-enough-history');
    expect(forecastEmpty([{ at: T0, level: 40 }], opts).status).toBe('not-enough-history');
    expect(
      forecastEmpty(
        [
          { at: T0, level: 40 },
          { at: T0, level: 39 },
        ],
        opts,
      ).status,
    ).toBe('not-enough-history');
    expect(
      forecastEmpty(
        [
          { at: T0, level: 40 },
          { at: T0 + 2 * DAY_MS, level: 36 },
        ],
        opts,
      ).status,
    ).toBe('not-enough-history');
  });

  it('a steady decline of 2 points a day from 31 % runs out 15.5 days after the first reading', () => {
    const h = [0, 1, 2, 3, 4, 5, 6].map((d) => ({ at: T0 + d * DAY_MS, level: 31 - 2 * d }));
    const f = forecastEmpty(h, { jump: 25, minSpanMs: 3 * DAY_MS, now: T0 + 6 * DAY_MS });
    expect(f).toMatchObject({ status: 'forecast', perDay: 2, days: 9.5, emptyAt: new Date(T0 + 15.5 * DAY_MS).toISOString() });
  });

  it('a flat level is not declining; an empty supply is empty now', () => {
    const flat = [0, 1, 2, 3, 4].map((d) => ({ at: T0 + d * DAY_MS, level: 50 }));
    expect(forecastEmpty(flat, { jump: 25, minSpanMs: 3 * DAY_MS, now: T0 }).status).toBe('not-declining');
    expect(forecastEmpty([...flat, { at: T0 + 5 * DAY_MS, level: 0 }], { jump: 60, minSpanMs: 0, now: T0 }).status).toBe('empty');
  });

  it('the forecast uses only the current cartridge', () => {
    const old = [0, 1, 2, 3].map((d) => ({ at: T0 + d * DAY_MS, level: 20 - 5 * d }));
    const fresh = [4, 5, 6, 7, 8].map((d) => ({ at: T0 + d * DAY_MS, level: 100 - (d - 4) }));
    const f = forecastEmpty([...old, ...fresh], { jump: 25, minSpanMs: 3 * DAY_MS, now: T0 + 8 * DAY_MS });
    expect(f).toMatchObject({ status: 'forecast', perDay: 1, readings: 5 });
  });

  it('Theil–Sen shrugs off a bounce that drags least squares', () => {
    const h = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => ({ at: d * DAY_MS, level: 60 - 2 * d }));
    (h[8] as { level: number }).level += 15;
    (h[9] as { level: number }).level += 15;
    expect((theilSen(h)?.slope ?? 0) * DAY_MS).toBeCloseTo(-2, 5);
  });

  it('hourly readings over 40 days are thinned to 64 points and still forecast the truth', () => {
    const history = levelHistory({ start: T0, startLevel: 85, perDay: 2, days: 40, perDayReadings: 24, noise: 1, bounce: 0.02, seed: 7 });
    expect(history.length).toBe(961);
    expect(thin(history).length).toBeLessThanOrEqual(64);
    const now = (history.at(-1) as { at: number }).at;
    const f = forecastEmpty(history, { jump: 25, minSpanMs: 3 * DAY_MS, now });
    expect(f.status).toBe('forecast');
    if (f.status === 'forecast') expect(Math.abs(Date.parse(f.emptyAt) - (T0 + 42.5 * DAY_MS)) / DAY_MS).toBeLessThan(1);
  });

  it('property: a noisy, bouncing decline from a Sharp walk level forecasts within 3 days or 25 % of the cartridge life, whichever is more', () => {
    const starts = sharpSupplies()
      .map((s) => s.percent)
      .filter((p): p is number => typeof p === 'number' && p > 30);
    const t = caseTally();
    const numRuns = 500;
    fc.assert(
      fc.property(
        fc.constantFrom(...starts),
        fc.double({ min: 0.8, max: 4, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (startLevel, perDay, seed) => {
          const days = Math.min(30, Math.floor((startLevel - 10) / perDay));
          fc.pre(days >= 6);
          const history = levelHistory({ start: T0, startLevel, perDay, days, perDayReadings: 2, noise: 1, bounce: 0.08, seed });
          const now = (history.at(-1) as { at: number }).at;
          const f = forecastEmpty(history, { jump: 25, minSpanMs: 3 * DAY_MS, now });
          const truth = T0 + (startLevel / perDay) * DAY_MS;
          expect(f.status).toBe('forecast');
          // levels are whole percent with ±1 noise and bounces of 3–8 points: the error of a
          // line fitted over the life so far grows with the whole life, not only what is left
          const bound = Math.max(3, (0.25 * (truth - T0)) / DAY_MS);
          if (f.status === 'forecast') expect(Math.abs(Date.parse(f.emptyAt) - truth) / DAY_MS).toBeLessThan(bound);
          t.decoded();
        },
      ),
      // a fixed seed: the same 500 histories every run (CI must not go red on a rare draw);
      // change the seed to explore, as fast-check prints it with any counterexample
      { numRuns, seed: 20261203 },
    );
    t.atLeast('decoded', 1, numRuns); // every run past fc.pre checked a forecast
  });
});
