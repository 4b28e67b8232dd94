// Realistic supply and meter histories for tests (not built into dist/): levels start from
// a real walk's values (fixtures/printers), fall at a device's daily rate with reading
// noise, and a shaken cartridge bounces up a few points now and then.
import { decodeSupplies, type Supply } from '../devices/index.js';
import { fixtureWalk } from '../devices/testing.js';
import { DAY_MS, type LevelReading } from './supplies.js';

/** The supplies of the Sharp MX-3570N walk, as the agent decodes them (Magenta Toner is 19 %). */
export function sharpSupplies(): Supply[] {
  return decodeSupplies(fixtureWalk('sharp-mx3570n'));
}

/** A small seeded PRNG (mulberry32), so a failing history can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface HistoryOptions {
  start: number;
  startLevel: number;
  perDay: number;
  days: number;
  /** readings per day */
  perDayReadings?: number;
  /** ± noise in points */
  noise?: number;
  /** chance per reading of a shaken-cartridge bounce (+3..+8 points for a reading or two) */
  bounce?: number;
  seed?: number;
}

/** Whole-percent levels, as printers report them, never below 0 or above 100. */
export function levelHistory(o: HistoryOptions): LevelReading[] {
  const rnd = seeded(o.seed ?? 1);
  const n = o.days * (o.perDayReadings ?? 1);
  const step = DAY_MS / (o.perDayReadings ?? 1);
  const out: LevelReading[] = [];
  let bounceLeft = 0;
  let bounceBy = 0;
  for (let i = 0; i <= n; i++) {
    const t = o.start + i * step;
    const truth = o.startLevel - (o.perDay * (t - o.start)) / DAY_MS;
    if (bounceLeft === 0 && rnd() < (o.bounce ?? 0)) {
      bounceLeft = 1 + Math.floor(rnd() * 2);
      bounceBy = 3 + rnd() * 5;
    }
    const bump = bounceLeft > 0 ? bounceBy : 0;
    if (bounceLeft > 0) bounceLeft--;
    const noisy = truth + bump + (rnd() * 2 - 1) * (o.noise ?? 0);
    out.push({ at: t, level: Math.max(0, Math.min(100, Math.round(noisy))) });
  }
  return out;
}
