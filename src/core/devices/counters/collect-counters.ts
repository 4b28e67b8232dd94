import { randomUUID } from 'node:crypto';
import { systemClock } from '../../clock.js';
import { isRdsError } from '../../errors.js';
import { silentLogger } from '../../logger.js';
import type { Db } from '../../store/db.js';
import { mapLimit } from '../limit.js';
import { describeError, type PassOptions } from '../pass.js';
import type { DeviceRecord } from '../types.js';
import { buildCounterReading, type CounterReading } from './counter-reading.js';
import { insertCounterReading, latestCounterReading } from './counter-store.js';

export interface CollectCountersResult {
  runId: string;
  readings: CounterReading[];
  failures: Array<{ deviceId: string; code: string; message: string }>;
}

/**
 * One collect-counters pass: read every device's counters (at most `concurrency` at once),
 * then, in one transaction, compare each with that device's previous reading (resets and
 * wraps flagged, never negative usage) and store one reading per device for this run. A
 * device that cannot be read gets no reading this run; the command decides whether that
 * is worth exit 3.
 */
export async function collectCountersPass(db: Db, devices: readonly DeviceRecord[], opts: PassOptions): Promise<CollectCountersResult> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? silentLogger;
  const newId = opts.newId ?? randomUUID;
  const runId = newId();
  const failures: CollectCountersResult['failures'] = [];
  const read = await mapLimit(devices, opts.concurrency ?? 32, async (device) => {
    try {
      const driver = opts.drivers[device.driver];
      if (!driver) throw new Error(`no driver "${device.driver}" is registered`);
      const snapshot = await driver.readCounters(device);
      return { device, snapshot, readAt: clock.now().toISOString() };
    } catch (error) {
      const e = describeError(error);
      (isRdsError(error) ? logger.warn : logger.error)('counter read failed', { device: device.id, code: e.code, error: e.message });
      failures.push({ deviceId: device.id, ...e });
      return undefined;
    }
  });
  const readings = db
    .transaction(() =>
      read.flatMap((r) => {
        if (!r) return [];
        const reading = buildCounterReading(latestCounterReading(db, r.device.id), r.snapshot, {
          readingId: newId(),
          deviceId: r.device.id,
          readAt: r.readAt,
        });
        insertCounterReading(db, runId, reading);
        return [reading];
      }),
    )
    .immediate();
  for (const reading of readings) {
    if (reading.flags.some((f) => f.startsWith('reset:') || f.startsWith('wrap:') || f === 'serial-changed')) {
      logger.warn('counter discontinuity', { device: reading.deviceId, flags: reading.flags.join(',') });
    }
  }
  return { runId, readings, failures };
}
