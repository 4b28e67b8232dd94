/**
 * A PC or server (device kind `host`) read through HOST-RESOURCES-MIB (RFC 2790). The
 * fault poll is small (hrSystemUptime and hrStorageTable); a counter reading adds the
 * processors, the running and the installed software.
 */
import { decodeHost, hostFaults } from '../decoders/decode-host.js';
import { HRH, SYS } from '../decoders/oids.js';
import { getInt, getString, mergeWalk, type Walk } from '../decoders/walk.js';
import type { CounterSnapshot, DeviceIdentity, FaultHint, FaultSnapshot, HostThresholds } from '../types.js';
import type { SnmpClient } from './snmp-session.js';

/** The tables a host counter reading walks (the fault poll walks the first only). */
export const HOST_WALKS: readonly string[] = [HRH.storageTable, HRH.processorLoad, HRH.swRunName, HRH.swRunPerfMem, HRH.swInstalledName];

async function readWalks(client: SnmpClient, scalars: readonly string[], tables: readonly string[]): Promise<Walk> {
  const [walk, ...rest] = await Promise.all([client.get(scalars), ...tables.map((t) => client.walk(t))]);
  for (const part of rest) mergeWalk(walk as Walk, part);
  return walk as Walk;
}

export async function pollHostFaults(
  client: SnmpClient,
  hint: FaultHint | undefined,
  thresholds: Partial<HostThresholds> | undefined,
): Promise<FaultSnapshot> {
  const walk = await readWalks(client, [HRH.systemUptime], [HRH.storageTable]);
  const uptime = getInt(walk, HRH.systemUptime);
  const faults = hostFaults(decodeHost(walk), thresholds, { previous: hint?.uptime, now: uptime });
  return { errorState: [], alerts: [], alertsWalked: false, faults, ...(uptime !== undefined ? { uptime } : {}) };
}

export function hostIdentity(walk: Walk): DeviceIdentity {
  const sysDescr = getString(walk, SYS.descr);
  const sysObjectId = getString(walk, SYS.objectId);
  const name = getString(walk, SYS.name);
  return {
    ...(sysDescr ? { sysDescr } : {}),
    ...(sysObjectId ? { sysObjectId } : {}),
    ...(name || sysDescr ? { model: (name ?? sysDescr ?? '').slice(0, 128) } : {}),
  };
}

export async function readHostCounters(client: SnmpClient): Promise<CounterSnapshot> {
  const walk = await readWalks(client, [SYS.descr, SYS.objectId, SYS.name, HRH.systemUptime, HRH.memorySize], HOST_WALKS);
  return {
    identity: hostIdentity(walk),
    figures: { byService: {}, byPaperSize: {}, sources: {} },
    supplies: [],
    host: decodeHost(walk),
  };
}
