/**
 * The devices core's light entry, for `rds watch-faults` (cron, every minute, on a small
 * box): the devices, the fault pass and the fault-report bookkeeping, with drivers loaded on
 * first use of their kind, so a pass over simulated devices loads no SNMP or IPP code and
 * one over printers loads no IPP or simulated code. Everything else stays behind index.ts
 * (which re-exports this file's names too); test/unit/devices-surface.test.ts allows both.
 */
import type { SnmpDriverOptions } from './drivers/snmp-driver.js';
import type { DeviceDriver, DriverName, DriverRegistry } from './types.js';

export { listDevices } from './device-store.js';
export {
  listOverdueFaultReports,
  listPendingFaultReports,
  markFaultReported,
  markFaultResent,
  markFaultUnacknowledged,
} from './faults/fault-reports.js';
export type { FaultEvent, FaultReport } from './faults/fault-store.js';
export { type DevicePollResult, type WatchFaultsResult, watchFaultsPass } from './faults/watch-faults.js';

/** A driver whose module is imported, and the driver made, on its first call (then reused). */
function onFirstUse(make: () => Promise<DeviceDriver>): DeviceDriver {
  let driver: Promise<DeviceDriver> | undefined;
  const get = () => {
    driver ??= make();
    return driver;
  };
  return {
    pollFaults: async (device, hint) => (await get()).pollFaults(device, hint),
    readCounters: async (device) => (await get()).readCounters(device),
    identify: async (device) => (await get()).identify(device),
  };
}

/** createDriverRegistry (drivers/registry.ts), each driver loaded on first use. */
export function createLazyDriverRegistry(options: { snmp?: SnmpDriverOptions } = {}): DriverRegistry {
  const drivers: Record<DriverName, DeviceDriver> = {
    snmp: onFirstUse(async () => (await import('./drivers/snmp-driver.js')).createSnmpDriver(options.snmp)),
    ipp: onFirstUse(async () => (await import('./drivers/ipp-driver.js')).createIppDriver()),
    simulated: onFirstUse(async () => (await import('./drivers/simulated-driver.js')).createSimulatedDriver()),
  };
  return drivers;
}
