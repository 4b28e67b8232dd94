// Service bench (issue 17): days-to-empty forecasts for a 200-device site (14 supplies each,
// 10 days of hourly levels with noise and shaken-cartridge bounces: 2,800 histories of 241
// readings), with the Theil–Sen fit rds uses against an ordinary least-squares line over the
// same histories (the cheapest honest fit; it is thrown off by bounces). The row's ratio is
// the price of robustness; the accuracy rows say what it buys (median absolute error of the
// forecast date, in days, against the generator's truth).
//
//   npm run bench -- service
import os from 'node:os';
import { DAY_MS, forecastEmpty, type LevelReading } from '../src/core/service/supplies.js';
import { levelHistory } from '../src/core/service/testing.js';

export const title = 'service: supply forecasts';

interface Ctx {
  runs: number;
  log(msg: string): void;
}

const T0 = Date.parse('2026-11-01T00:00:00Z');

function ols(points: readonly LevelReading[]): number | undefined {
  const n = points.length;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    const x = p.at - T0;
    sx += x;
    sy += p.level;
    sxx += x * x;
    sxy += x * p.level;
  }
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  if (!(slope < 0)) return undefined;
  const intercept = (sy - slope * sx) / n;
  return T0 + -intercept / slope;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export async function run(ctx: Ctx) {
  const histories: { h: LevelReading[]; truth: number }[] = [];
  for (let i = 0; i < 2800; i++) {
    const startLevel = 40 + (i % 50);
    const perDay = 1 + (i % 7) * 0.5;
    const h = levelHistory({ start: T0, startLevel, perDay, days: 10, perDayReadings: 24, noise: 1, bounce: 0.03, seed: i + 1 });
    histories.push({ h, truth: T0 + (startLevel / perDay) * DAY_MS });
  }
  ctx.log(`${histories.length} histories of ${histories[0]?.h.length} readings; ${ctx.runs} runs each, alternating`);
  const theil: number[] = [];
  const plain: number[] = [];
  let theilErr: number[] = [];
  let olsErr: number[] = [];
  for (let r = 0; r < ctx.runs + 1; r++) {
    for (const side of r % 2 === 0 ? ['t', 'o'] : ['o', 't']) {
      const errors: number[] = [];
      const t = process.hrtime.bigint();
      for (const { h, truth } of histories) {
        const now = (h.at(-1) as LevelReading).at;
        if (side === 't') {
          const f = forecastEmpty(h, { jump: 25, minSpanMs: 3 * DAY_MS, now });
          if (f.status === 'forecast') errors.push(Math.abs(Date.parse(f.emptyAt) - truth) / DAY_MS);
        } else {
          const at = ols(h);
          if (at !== undefined) errors.push(Math.abs(at - truth) / DAY_MS);
        }
      }
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (r === 0) continue; // warm-up
      if (side === 't') {
        theil.push(ms);
        theilErr = errors;
      } else {
        plain.push(ms);
        olsErr = errors;
      }
    }
  }
  const a = median(theil);
  const b = median(plain);
  const ea = median(theilErr);
  const eb = median(olsErr);
  return {
    note: `2,800 supplies × 241 hourly levels; load ${os.loadavg()[0]?.toFixed(2)} (1 min)`,
    rows: [
      {
        name: 'forecast 2,800 supplies (Theil–Sen)',
        value: a,
        baseline: b,
        ratio: a / b,
        unit: 'ms',
        goal: { on: 'value', max: 5000, text: '< 5 s for a 200-device site' },
      },
      { name: 'median forecast error, days', value: ea, baseline: eb, ratio: ea / eb, unit: 'days', goal: 'below least squares' },
    ],
  };
}
