import { decodeIdentity } from '../decoders/decode-status.js';
import { SYS } from '../decoders/oids.js';
import { createLimiter } from '../limit.js';
import type { DeviceDriver, DeviceRecord, SnmpDeviceConfig } from '../types.js';
import { readBasics, readCounters } from './snmp-counters.js';
import { pollFaults } from './snmp-faults.js';
import { hostIdentity, pollHostFaults, readHostCounters } from './snmp-host.js';
import { openSnmpClient, SNMP_DEFAULTS, type SnmpClient, type SnmpDefaults } from './snmp-session.js';

export { COUNTER_PROBES, COUNTER_SOURCES, COUNTER_WALKS, readCounters, TABLE_REPETITIONS } from './snmp-counters.js';
export { pollFaults } from './snmp-faults.js';

export interface SnmpDriverOptions extends Partial<SnmpDefaults> {
  /** Devices polled at once across every caller of this driver (default 32). */
  maxConcurrent?: number;
}

/**
 * The SNMP driver only fetches: it decides which OIDs to ask for, asks, and hands the
 * answers (a Walk) to the pure decoders. v1, v2c and v3 (USM, e.g. authPriv SHA/AES).
 */
export function createSnmpDriver(options: SnmpDriverOptions = {}): DeviceDriver {
  const defaults: SnmpDefaults = { ...SNMP_DEFAULTS, ...stripUndefined(options) };
  const limiter = createLimiter(options.maxConcurrent ?? 32);
  const withClient = <T>(device: DeviceRecord, fn: (client: SnmpClient) => Promise<T>) =>
    limiter.run(async () => {
      const client = await openSnmpClient(snmpConfig(device), defaults);
      try {
        return await fn(client);
      } finally {
        client.close();
      }
    });

  const isHost = (device: DeviceRecord) => snmpConfig(device).kind === 'host';
  return {
    pollFaults: (device, hint) =>
      withClient(device, (client) =>
        isHost(device) ? pollHostFaults(client, hint, snmpConfig(device).thresholds) : pollFaults(client, hint),
      ),
    readCounters: (device) => withClient(device, isHost(device) ? readHostCounters : readCounters),
    identify: (device) =>
      withClient(device, async (client) => {
        if (isHost(device)) return hostIdentity(await client.get([SYS.descr, SYS.objectId, SYS.name]));
        const { walk, printerIndex } = await readBasics(client);
        return decodeIdentity(walk, printerIndex);
      }),
  };
}

function snmpConfig(device: DeviceRecord): SnmpDeviceConfig {
  if (device.driver !== 'snmp') throw new TypeError(`device ${device.id} is not an SNMP device`);
  return device.config;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
