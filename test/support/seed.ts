// Replayable randomness for tests: a seed from RDS_TEST_SEED (to replay a failure) or a
// fresh one, shown in the test title so a failing run names the seed that replays it.

/** The seed for this run: RDS_TEST_SEED if set (an unsigned 32-bit integer), else a fresh one. */
export function testSeed(): number {
  const given = process.env.RDS_TEST_SEED;
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new Error(`RDS_TEST_SEED must be an integer 0..4294967295, not ${given}`);
    return n;
  }
  return Math.floor(Math.random() * 0x1_0000_0000);
}

/** A deterministic generator of numbers in [0, 1) from `seed`: the project's one seeded PRNG. */
export { seeded as seededRandom } from '../../src/core/service/testing.js';

/** "seed N, replay with RDS_TEST_SEED=N" for a test title. */
export const seedLabel = (seed: number): string => `seed ${seed}, replay with RDS_TEST_SEED=${seed}`;
