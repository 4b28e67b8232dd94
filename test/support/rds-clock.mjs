// Test-only entry of the rds binary: exactly bin/rds.js, but on a clock RDS_TEST_CLOCK_OFFSET_MS
// milliseconds ahead of the real one (what the demo does in-process), so a test can let a
// rollout's rate window or timeout pass without waiting. It lives under test/ (not shipped:
// package.json `files`), and the product never reads that variable.
import { main } from '../../dist/cli.js';

const offset = Number(process.env.RDS_TEST_CLOCK_OFFSET_MS ?? '0');
if (!Number.isFinite(offset)) throw new Error(`RDS_TEST_CLOCK_OFFSET_MS '${process.env.RDS_TEST_CLOCK_OFFSET_MS}' is not a number`);
main(process.argv, { clock: { now: () => new Date(Date.now() + offset) } }).then((code) => {
  process.exitCode = code;
});
