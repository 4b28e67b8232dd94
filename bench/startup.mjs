// Cold start: `rds --version` vs `node -e 0`, a new process each run (cron on a small box
// pays start-up every minute). Median of 15 runs each (BENCH_STARTUP_RUNS), alternating.
import { compare, measure, rowOf } from './_lib.mjs';

export const title = 'start-up';

export async function run(ctx) {
  const runs = Number(process.env.BENCH_STARTUP_RUNS ?? 15);
  ctx.log(`${runs} runs each (+2 warm-up), alternating`);
  const r = await compare(
    runs,
    () => measure([process.execPath, ctx.bin, '--version']),
    () => measure([process.execPath, '-e', '0']),
    { warmup: 2 },
  );
  return {
    note: `${runs} runs each; ${process.version}`,
    rows: [
      rowOf('rds --version: time', r, 'ms', { on: 'ratio', max: 2.5, text: '≤ 2.5× node -e 0' }),
      rowOf('rds --version: CPU (user+sys)', r, 'cpuMs'),
      rowOf('rds --version: peak RSS', r, 'rssKB'),
    ],
  };
}
