import { randomUUID } from 'node:crypto';
import { systemClock } from '../../clock.js';
import { isRdsError } from '../../errors.js';
import { silentLogger } from '../../logger.js';
import type { Db } from '../../store/db.js';
import { mapLimit } from '../limit.js';
import { describeError, type PassOptions } from '../pass.js';
import type { DeviceRecord, FaultSnapshot } from '../types.js';
import { type FaultTransition, type PollOutcome, stepFaultState } from './fault-state.js';
import { type FaultReport, loadFaultStates, persistFaultStep } from './fault-store.js';

export interface DevicePollResult {
  deviceId: string;
  ok: boolean;
  /** Stable code (DEVICE_UNREACHABLE, DEVICE_ERROR, …) and message when the poll failed. */
  error?: { code: string; message: string };
  snapshot?: FaultSnapshot;
  transitions: FaultTransition[];
}

export interface WatchFaultsResult {
  devices: DevicePollResult[];
  /** Events raised or cleared by this pass: what to mail to the host now. */
  reports: FaultReport[];
  failed: number;
}

/**
 * One watch-faults pass: poll every device (at most `concurrency` at once), run the fault
 * state machine on what came back, persist every device's step (one transaction for the
 * pass: no write interleaves with the network, and a pass killed half-way leaves the
 * state as it was), and return the raised/cleared events to report. A device that cannot
 * be read is a failed poll for the state machine, not an error of the pass.
 */
export async function watchFaultsPass(db: Db, devices: readonly DeviceRecord[], opts: PassOptions): Promise<WatchFaultsResult> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? silentLogger;
  const newId = opts.newId ?? randomUUID;
  const inputs = loadFaultStates(db);
  const polled = await mapLimit(devices, opts.concurrency ?? 32, async (device) => {
    const { state, hint } = inputs(device.id);
    let snapshot: FaultSnapshot | undefined;
    let error: DevicePollResult['error'];
    try {
      const driver = opts.drivers[device.driver];
      if (!driver) throw new Error(`no driver "${device.driver}" is registered`);
      snapshot = await driver.pollFaults(device, hint);
    } catch (e) {
      error = describeError(e);
      (isRdsError(e) ? logger.warn : logger.error)('device poll failed', { device: device.id, code: error.code, error: error.message });
    }
    return { device, state, snapshot, error, at: clock.now().toISOString() };
  });
  const results = db
    .transaction(() =>
      polled.map(({ device, state, snapshot, error, at }) => {
        const outcome: PollOutcome = snapshot
          ? { ok: true, faults: snapshot.faults }
          : { ok: false, error: error?.message ?? 'poll failed' };
        const step = stepFaultState(state, outcome);
        const reports = persistFaultStep(db, step, { deviceId: device.id, now: at, newId, snapshot, error: error?.message });
        return { deviceId: device.id, ok: snapshot !== undefined, error, snapshot, transitions: step.transitions, reports };
      }),
    )
    .immediate();
  for (const r of results.flatMap((x) => x.reports)) {
    logger.info(`fault ${r.kind}`, { device: r.event.deviceId, code: r.event.code, subunit: r.event.subunit || undefined });
  }
  return {
    devices: results.map(({ reports: _reports, ...r }) => r),
    reports: results.flatMap((r) => r.reports),
    failed: results.filter((r) => !r.ok).length,
  };
}
