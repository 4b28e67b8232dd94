import { describe, expect, it } from 'vitest';
import type { CounterSnapshot, HostFigures } from '../types.js';
import { buildCounterReading } from './counter-reading.js';

const figures = (uptimeSeconds: number): HostFigures => ({
  uptimeSeconds,
  cpuLoadPercent: 20,
  processors: 2,
  memoryUsedPercent: 50,
  disks: [],
  topApplications: [],
});
const snapshot = (uptimeSeconds: number): CounterSnapshot => ({
  identity: { model: 'pc1' },
  figures: { byService: {}, byPaperSize: {}, sources: {} },
  supplies: [],
  host: figures(uptimeSeconds),
});
const meta = (n: number) => ({ readingId: `r${n}`, deviceId: 'pc1', readAt: `2026-12-0${n}T10:00:00Z` });

describe('a host reading counts restarts from reading to reading', () => {
  it('0 at first, +1 when the uptime went back, not when it grew; no "no-counters" flag', () => {
    const first = buildCounterReading(undefined, snapshot(86_400), meta(1));
    expect(first.host?.restarts).toBe(0);
    expect(first.flags).toEqual(['first-reading']);
    const second = buildCounterReading(first, snapshot(600), meta(2));
    expect(second.host?.restarts).toBe(1);
    expect(second.flags).toContain('restarted');
    const third = buildCounterReading(second, snapshot(90_000), meta(3));
    expect(third.host?.restarts).toBe(1);
    expect(third.flags).not.toContain('restarted');
  });
});
