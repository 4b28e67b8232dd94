/**
 * Test support for every property test (not built: tsconfig.build.json leaves testing.ts
 * out). A property checks something only when its inputs reach the code under test: a
 * generator whose cases are all refused at the door, skipped by a precondition or sent
 * down an early return passes while checking nothing. Each such property counts what its
 * cases came to with a caseTally and asserts a floor on the cases that reached the code
 * (as a share of its runs), so a generator that stops reaching it, or code that refuses
 * everything, fails instead of passing vacuously.
 */
import { expect } from 'vitest';

/** decoded: the case reached the success path under test; refused: it gave the expected typed error */
export type CaseOutcome = 'decoded' | 'refused';

export interface CaseTally {
  readonly counts: Record<CaseOutcome, number>;
  /** count one case as decoded */
  decoded(): void;
  /** count one case as refused */
  refused(): void;
  /** count `value`: undefined is refused, anything else decoded; returns it */
  note<T>(value: T | undefined): T | undefined;
  /** at least `share` (0..1) of `numRuns` cases were `kind` */
  atLeast(kind: CaseOutcome, share: number, numRuns: number): void;
}

/** A tally of one property's cases; `log` (e.g. `hostile[fuzz]`) prints the counts before each floor. */
export function caseTally(log?: string): CaseTally {
  const counts: Record<CaseOutcome, number> = { decoded: 0, refused: 0 };
  return {
    counts,
    decoded: () => {
      counts.decoded++;
    },
    refused: () => {
      counts.refused++;
    },
    note<T>(value: T | undefined): T | undefined {
      counts[value === undefined ? 'refused' : 'decoded']++;
      return value;
    },
    atLeast(kind: CaseOutcome, share: number, numRuns: number): void {
      if (log) console.log(`${log}: ${expect.getState().currentTestName}: ${counts.decoded} decoded, ${counts.refused} refused`);
      expect(counts[kind], `${kind} cases of ${numRuns} (${JSON.stringify(counts)})`).toBeGreaterThanOrEqual(Math.ceil(share * numRuns));
    },
  };
}
