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

export interface CaseTally<K extends string = CaseOutcome> {
  readonly counts: Record<K | CaseOutcome, number>;
  /** count one case as `kind` (a branch of the property: 'decoded', 'refused', 'truncated', ...) */
  count(kind: K | CaseOutcome): void;
  /** count one case as decoded */
  decoded(): void;
  /** count one case as refused */
  refused(): void;
  /** count `value`: undefined is refused, anything else decoded; returns it */
  note<T>(value: T | undefined): T | undefined;
  /** at least `share` (0..1) of `numRuns` cases were `kind` */
  atLeast(kind: K | CaseOutcome, share: number, numRuns: number): void;
}

/**
 * A tally of one property's cases; `log` (e.g. `hostile[fuzz]`) prints the counts before each
 * floor (RDS_CASE_TALLY=1 prints them for every tally: how floors are tuned).
 */
export function caseTally<K extends string = CaseOutcome>(log?: string): CaseTally<K> {
  const counts = { decoded: 0, refused: 0 } as Record<K | CaseOutcome, number>;
  const count = (kind: K | CaseOutcome) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
  };
  return {
    counts,
    count,
    decoded: () => count('decoded'),
    refused: () => count('refused'),
    note<T>(value: T | undefined): T | undefined {
      count(value === undefined ? 'refused' : 'decoded');
      return value;
    },
    atLeast(kind: K | CaseOutcome, share: number, numRuns: number): void {
      const shown = Object.entries(counts).map(([k, n]) => `${n} ${k}`);
      if (log || process.env.RDS_CASE_TALLY) console.log(`${log ?? 'cases'}: ${expect.getState().currentTestName}: ${shown.join(', ')}`);
      expect(counts[kind] ?? 0, `${kind} cases of ${numRuns} (${JSON.stringify(counts)})`).toBeGreaterThanOrEqual(
        Math.ceil(share * numRuns),
      );
    },
  };
}
