/**
 * Devices core: what commands (watch-faults, collect-counters, devices add/list/remove) and
 * the mail flows call. Everything here takes its db, drivers and clock as arguments.
 *
 * This file is the folder's public surface: code outside src/core/devices imports from here
 * (test support from ./testing.js), never from a subfolder (test/unit/devices-surface.test.ts
 * checks). Inside, by concept:
 *   drivers/   how a device is asked: snmp (session, fault and counter walks, hosts), ipp, simulated
 *   decoders/  what an SNMP walk means: Printer-MIB/HR-MIB status, supplies, counters, hosts, vendor
 *              counter profiles (PWG, Sharp), the OIDs, the walk and .snmprec formats
 *   faults/    canonical fault codes, the per-device state machine, its store, the report and
 *              ack bookkeeping, and the watch-faults pass
 *   counters/  counter figures, readings, their store, and the collect-counters pass
 *   discovery/ what `devices discover` scans, how one address is probed, matching and adding
 * Shared at the root: types, device config and store, the passes' options, the concurrency
 * limiter, test support.
 * The pure decoders and the SNMP session are exported too: the hostile and fuzz tests drive them.
 *
 * Loading this index does not load net-snmp: the SNMP session imports it on first use.
 */
export { type CollectCountersResult, collectCountersPass } from './counters/collect-counters.js';
export { buildCounterReading, COUNTER_READING_FORMAT, type CounterReading } from './counters/counter-reading.js';
export {
  hasCounterReadings,
  latestCounterReading,
  listCounterReadings,
  listUnsentCounterReadings,
  markCounterReadingsSent,
} from './counters/counter-store.js';
export { decodeCounters } from './decoders/decode-counters.js';
export { decodeHost, HOST_THRESHOLDS, hostFaults, restartedBetween } from './decoders/decode-host.js';
export { decodeAlerts, decodeErrorState, decodeIdentity, decodePrinterState, findPrinterIndex } from './decoders/decode-status.js';
export { decodeSubunitLabels, decodeSupplies } from './decoders/decode-supplies.js';
export { HR, HRH, PRT, PWG_IC, SHARP, SYS } from './decoders/oids.js';
export { formatSnmprec, loadSnmprec, parseSnmprec } from './decoders/snmprec.js';
export { decodeSnmpString, type Walk, type WalkValue } from './decoders/walk.js';
export { parseDeviceAddress, validateDeviceConfig } from './device-config.js';
export {
  type AddDeviceInput,
  addDevice,
  changeDeviceAddress,
  deviceSerials,
  getDevice,
  listDevices,
  redactDeviceConfig,
  removeDevice,
} from './device-store.js';
export { deviceTable, redactedDevices } from './device-view.js';
export {
  addDiscovered,
  type Discovered,
  type DiscoveredStatus,
  type DiscoverOptions,
  matchFound,
  scanAddresses,
} from './discovery/discover.js';
export type { FoundDevice, FoundKind } from './discovery/probe.js';
export { MAX_SCAN_ADDRESSES, parseScanTargets, type ScanTargets } from './discovery/targets.js';
export { createDriverRegistry } from './drivers/registry.js';
export {
  createSimulatedDriver,
  makeSimulatedPrinter,
  readSimulatedFleetFile,
  SIMULATED_FORMAT,
  type SimulatedDevice,
  type SimulatedFleet,
  updateSimulatedDevice,
  writeSimulatedFleetFile,
} from './drivers/simulated-driver.js';
export {
  COUNTER_PROBES,
  COUNTER_SOURCES,
  COUNTER_WALKS,
  createSnmpDriver,
  type SnmpDriverOptions,
  TABLE_REPETITIONS,
} from './drivers/snmp-driver.js';
export { openSnmpClient, type SnmpClient } from './drivers/snmp-session.js';
export {
  listOverdueFaultReports,
  listPendingFaultReports,
  markFaultAcked,
  markFaultAckedByMessage,
  markFaultReported,
  markFaultResent,
  markFaultUnacknowledged,
} from './faults/fault-reports.js';
export { CLEAR_AFTER_CLEAN_POLLS, stepFaultState, UNREACHABLE_AFTER_FAILURES } from './faults/fault-state.js';
export { type FaultEvent, type FaultReport, listFaultEvents, type ReportKind, type ReportState } from './faults/fault-store.js';
export { deriveFaults, FAULT_SEVERITY } from './faults/faults.js';
export { type DevicePollResult, type WatchFaultsResult, watchFaultsPass } from './faults/watch-faults.js';
export type { PassOptions } from './pass.js';
export * from './types.js';
export { createLazyDriverRegistry } from './watch.js';
