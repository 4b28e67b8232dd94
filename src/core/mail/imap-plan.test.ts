import { describe, expect, it } from 'vitest';
import { planBatches, sizeThreshold, toSequenceSet } from './imap-plan.js';

describe('toSequenceSet', () => {
  it.each([
    [[5], '5'],
    [[3, 1, 2], '1:3'],
    [[1, 2, 3, 7, 9, 10, 10], '1:3,7,9:10'],
    [[], ''],
  ])('%j → %s', (uids, set) => {
    expect(toSequenceSet(uids)).toBe(set);
  });
});

describe('planBatches', () => {
  const limits = { count: 3, bytes: 1000, threshold: 100, maxSize: 5000 };

  it('cuts by count', () => {
    const waiting = [1, 2, 3, 4, 5, 6, 7].map((uid) => ({ uid }));
    expect(planBatches(waiting, limits).map((b) => b.map((m) => m.uid))).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('cuts by bytes, a big mail alone, oversized ones cost nothing', () => {
    const waiting = [{ uid: 1 }, { uid: 2, size: 950 }, { uid: 3, size: 4000 }, { uid: 4, size: 9000 }, { uid: 5 }];
    expect(planBatches(waiting, limits).map((b) => b.map((m) => m.uid))).toEqual([[1], [2], [3], [4, 5]]);
  });

  it('assumes the threshold for unknown sizes so a batch never exceeds its bytes', () => {
    expect(sizeThreshold({ count: 250, bytes: 16 * 1_048_576, maxSize: 10_240_000 })).toBe(67_108);
    expect(sizeThreshold({ count: 250, bytes: 16 * 1_048_576, maxSize: 10_000 })).toBe(10_000);
  });
});
