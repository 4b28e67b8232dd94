import type { DriverRegistry } from '../types.js';
import { createIppDriver } from './ipp-driver.js';
import { createSimulatedDriver } from './simulated-driver.js';
import { createSnmpDriver, type SnmpDriverOptions } from './snmp-driver.js';

/**
 * The drivers a pass may use, by the name stored with each device. Commands build one at
 * the edge; tests pass fakes. net-snmp itself is loaded only when an SNMP device is polled.
 */
export function createDriverRegistry(options: { snmp?: SnmpDriverOptions } = {}): DriverRegistry {
  return { snmp: createSnmpDriver(options.snmp), ipp: createIppDriver(), simulated: createSimulatedDriver() };
}
