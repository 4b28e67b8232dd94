/**
 * Devices core: what commands (watch-faults, collect-counters, devices add/list/remove) and
 * the mail flows call. Everything here takes its db, drivers and clock as arguments.
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
export { formatSnmprec, loadSnmprec, parseSnmprec } from './decoders/snmprec.js';
export { parseDeviceAddress, validateDeviceConfig } from './device-config.js';
export { type AddDeviceInput, addDevice, getDevice, listDevices, redactDeviceConfig, removeDevice } from './device-store.js';
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
export { FAULT_SEVERITY } from './faults/faults.js';
export { type DevicePollResult, type PassOptions, type WatchFaultsResult, watchFaultsPass } from './faults/watch-faults.js';
export * from './types.js';
