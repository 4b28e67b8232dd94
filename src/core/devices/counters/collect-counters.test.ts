import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../store/db.js';
import { decodeCounters } from '../decoders/decode-counters.js';
import { decodeIdentity } from '../decoders/decode-status.js';
import { addDevice, listDevices } from '../device-store.js';
import {
  createSimulatedDriver,
  makeSimulatedPrinter,
  updateSimulatedDevice,
  writeSimulatedFleetFile,
} from '../drivers/simulated-driver.js';
import { counterIds, fakeClock, fixtureWalk, tempDb } from '../testing.js';
import { collectCountersPass } from './collect-counters.js';
import { buildCounterReading, compareCounter } from './counter-reading.js';
import { hasCounterReadings, listCounterReadings, listUnsentCounterReadings, markCounterReadingsSent } from './counter-store.js';

describe('compareCounter', () => {
  it('up is usage, a Counter32 wrap is unwrapped, anything else down is a reset', () => {
    expect(compareCounter(100, 150, 2 ** 32)).toEqual({ delta: 50 });
    expect(compareCounter(2 ** 32 - 10, 5, 2 ** 32)).toEqual({ delta: 15, flag: 'wrap' });
    expect(compareCounter(5000, 10, 2 ** 32)).toEqual({ delta: null, flag: 'reset' });
    expect(compareCounter(2 ** 32 - 10, 5, undefined)).toEqual({ delta: null, flag: 'reset' });
  });

  it('never yields negative usage (property)', () => {
    fc.assert(
      fc.property(fc.nat(2 ** 32 - 1), fc.nat(2 ** 32 - 1), fc.constantFrom(undefined, 2 ** 31, 2 ** 32), (then, now, wrapAt) => {
        const { delta } = compareCounter(then, now, wrapAt);
        expect(delta === null || delta >= 0).toBe(true);
      }),
    );
  });
});

describe('buildCounterReading (host format)', () => {
  const walk = fixtureWalk('sharp-mx3570n');
  const snapshot = () => ({ identity: decodeIdentity(walk), figures: decodeCounters(walk), supplies: [] });
  const meta = (n: number) => ({ readingId: `r${n}`, deviceId: 'sharp', readAt: `2026-11-2${n}T00:00:00.000Z` });

  it('first reading is flagged and has no usage; the next one has usage since the first', () => {
    const first = buildCounterReading(undefined, snapshot(), meta(1));
    expect(first).toMatchObject({
      format: 'rds-counter-reading/1',
      serial: '6509415X00',
      total: 121104,
      mono: 91164,
      colour: 29940,
      flags: ['first-reading'],
      usage: null,
    });
    const s = snapshot();
    s.figures.total = 121204;
    s.figures.mono = 91264;
    const second = buildCounterReading(first, s, meta(2));
    expect(second.usage).toEqual({ since: first.readAt, total: 100, mono: 100, colour: 0 });
    expect(second.flags).toEqual([]);
  });

  it('a counter that went down is a reset (no usage), a wrap of a single Counter32 is unwrapped', () => {
    const first = buildCounterReading(undefined, snapshot(), meta(1));
    const reset = snapshot();
    reset.figures.total = 5;
    reset.figures.byService.print = { total: 10, mono: 53631 + 7, colour: 28583 };
    const r = buildCounterReading(first, reset, meta(2));
    expect(r.flags).toEqual(['reset:total', 'reset:byService.print.total']);
    expect(r.usage).toEqual({ since: first.readAt, total: null, mono: 0, colour: 0 });

    const nearTop = snapshot();
    nearTop.figures.mono = 2 ** 32 - 3; // mono comes from one Counter32 (5.4.61)
    const before = buildCounterReading(undefined, nearTop, meta(1));
    const wrapped = snapshot();
    wrapped.figures.mono = 4;
    const w = buildCounterReading(before, wrapped, meta(2));
    expect(w.flags).toContain('wrap:mono');
    expect(w.usage?.mono).toBe(7);
  });

  it('another serial behind the same device id: no comparison at all', () => {
    const first = buildCounterReading(undefined, snapshot(), meta(1));
    const other = snapshot();
    other.identity.serial = 'NEW-1';
    other.figures.total = 3;
    expect(buildCounterReading(first, other, meta(2))).toMatchObject({ flags: ['serial-changed'], usage: null });
  });
});

describe('collectCountersPass with the simulated driver', () => {
  let t: ReturnType<typeof tempDb>;
  let db: Db;
  let file: string;
  const clock = fakeClock();
  beforeEach(() => {
    t = tempDb();
    db = t.db;
    file = path.join(t.dir, 'printers.json');
    writeSimulatedFleetFile(file, {
      a: makeSimulatedPrinter(1),
      b: makeSimulatedPrinter(2),
      gone: makeSimulatedPrinter(3, { reachable: false }),
    });
    for (const id of ['a', 'b', 'gone']) addDevice(db, { id, driver: 'simulated', config: { file } }, clock);
  });
  afterEach(() => t.cleanup());

  it('one reading per reachable device per run, kept until sent; a reset is flagged', async () => {
    const drivers = { simulated: createSimulatedDriver() };
    expect(hasCounterReadings(db)).toBe(false);
    const run1 = await collectCountersPass(db, listDevices(db), { drivers, clock, newId: counterIds('c') });
    expect(run1.readings.map((r) => [r.deviceId, r.serial, r.total, r.flags.join()])).toEqual([
      ['a', 'SIM-0001', 10137, 'first-reading'],
      ['b', 'SIM-0002', 12356, 'first-reading'],
    ]);
    expect(run1.failures).toEqual([{ deviceId: 'gone', code: 'DEVICE_UNREACHABLE', message: 'simulated device "gone" is unreachable' }]);
    expect(run1.readings[0]?.sources.total).toEqual({ profile: 'simulated', oids: ['counters.total'] });
    expect(run1.readings[0]?.byPaperSize.iso_a4_210x297mm?.total).toBe(9123);

    updateSimulatedDevice(file, 'a', (d) => ({ ...d, counters: { ...d.counters, total: 10, mono: 10, colour: 0 } }));
    updateSimulatedDevice(file, 'b', (d) => ({ ...d, counters: { ...d.counters, total: (d.counters?.total ?? 0) + 50 } }));
    clock.advance(3_600_000);
    const run2 = await collectCountersPass(db, listDevices(db), { drivers, clock });
    expect(run2.readings.map((r) => [r.deviceId, r.flags.join(), r.usage?.total])).toEqual([
      ['a', 'reset:total,reset:mono', null],
      ['b', '', 50],
    ]);
    const row = db.prepare("SELECT flags, total FROM counter_readings WHERE device_id = 'a' ORDER BY id DESC").get();
    expect(row).toEqual({ flags: 'reset:total,reset:mono', total: 10 });

    const unsent = listUnsentCounterReadings(db);
    expect(unsent).toHaveLength(4);
    expect(
      markCounterReadingsSent(
        db,
        unsent.slice(0, 3).map((r) => r.readingId),
        '<counters-1@agent>',
        clock.now(),
      ),
    ).toBe(3);
    expect(listUnsentCounterReadings(db).map((r) => r.deviceId)).toEqual(['b']);
    expect(listCounterReadings(db, { deviceId: 'a' })).toHaveLength(2);
    expect(hasCounterReadings(db)).toBe(true);
  });
});
