import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseTally } from '../testing.js';
import { createLimiter, mapLimit } from './limit.js';

describe('concurrency cap', () => {
  it('never runs more than max tasks at once, whatever the timing (property)', async () => {
    const t = caseTally<'saturated'>();
    const numRuns = 60;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 40 }), async (max, delays) => {
        const limiter = createLimiter(max);
        let active = 0;
        let peak = 0;
        await Promise.all(
          delays.map((d) =>
            limiter.run(async () => {
              peak = Math.max(peak, ++active);
              await new Promise((r) => setTimeout(r, d));
              active--;
            }),
          ),
        );
        expect(peak).toBeLessThanOrEqual(max);
        if (delays.length >= max) {
          expect(peak).toBe(max);
          t.count('saturated');
        }
      }),
      { numRuns },
    );
    // enough tasks to fill every slot: the cap is reached, not only respected
    t.atLeast('saturated', 0.35, numRuns); // ~65% today
  });

  it('mapLimit keeps input order and passes errors through', async () => {
    expect(await mapLimit([3, 1, 2], 2, async (x) => x * 10)).toEqual([30, 10, 20]);
    await expect(mapLimit([1], 1, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(() => createLimiter(0)).toThrow(RangeError);
  });
});
