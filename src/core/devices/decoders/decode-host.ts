/**
 * What a PC's or server's HOST-RESOURCES-MIB walk (RFC 2790) means: uptime, processor
 * load, memory and disk use, running and installed software; and which of that is a fault.
 * Pure: walks in, figures and faults out. Every text is a decoded, neutralised SNMP string.
 */
import type { HostFigures, HostStorage, HostThresholds, ObservedFault } from '../types.js';
import { HRH } from './oids.js';
import { columnEntries, getInt, getString, type Walk } from './walk.js';

/** Defaults when a device names none (docs/devices.md#hosts). */
export const HOST_THRESHOLDS: Readonly<HostThresholds> = { diskPercent: 90, memoryPercent: 95 };
/** Disks and applications kept per reading: a server with hundreds of mounts stays one small reading. */
export const MAX_HOST_DISKS = 64;
export const TOP_APPLICATIONS = 10;
/** hrSystemUptime is TimeTicks: it wraps at 2^32 hundredths of a second (about 497 days). */
const UPTIME_WRAP = 2 ** 32;
/** A drop from this close to the wrap point is the wrap, not a restart (one day). */
const WRAP_MARGIN = 100 * 86_400;

const HR_STORAGE_OTHER = '1.3.6.1.2.1.25.2.1.1';
/** net-snmp on Linux counts buffers and page cache as used RAM and lists them as rows of their own. */
const RECLAIMABLE = /^(memory buffers|cached memory)$/i;

interface StorageRow {
  index: string;
  type: string;
  description: string;
  size: number;
  used: number;
}

function storageRows(walk: Walk): StorageRow[] {
  const rows: StorageRow[] = [];
  for (const [index, value] of columnEntries(walk, HRH.storageType)) {
    if (value.type !== 6) continue;
    const at = (column: string) => getInt(walk, `${column}.${index}`);
    const units = at(HRH.storageAllocationUnits);
    const size = at(HRH.storageSize);
    const used = at(HRH.storageUsed);
    // a row without its units, size or use (or a negative one) says nothing usable
    if (units === undefined || size === undefined || used === undefined || units <= 0 || size < 0 || used < 0) continue;
    // bytes past 2^53 are no real disk, and would not survive the report's count checks
    if (!Number.isSafeInteger(size * units) || !Number.isSafeInteger(used * units)) continue;
    const description = (getString(walk, `${HRH.storageDescr}.${index}`) ?? `storage ${index}`).slice(0, 128);
    rows.push({ index, type: value.value, description, size: size * units, used: used * units });
  }
  return rows;
}

const percent = (used: number, size: number) => Math.round((used / size) * 1000) / 10;

function memory(rows: readonly StorageRow[]): { usedPercent?: number; sizeBytes?: number } {
  const ram = rows.filter((r) => r.type === HRH.typeRam && r.size > 0);
  if (ram.length === 0) return {};
  const size = ram.reduce((n, r) => n + r.size, 0);
  if (!Number.isSafeInteger(size)) return {};
  const reclaimable = rows.filter((r) => r.type === HR_STORAGE_OTHER && RECLAIMABLE.test(r.description)).reduce((n, r) => n + r.used, 0);
  const used = Math.max(0, ram.reduce((n, r) => n + r.used, 0) - reclaimable);
  return { usedPercent: percent(Math.min(used, size), size), sizeBytes: size };
}

function applications(walk: Walk): HostFigures['topApplications'] {
  const byName = new Map<string, { name: string; processes: number; memoryKBytes: number }>();
  for (const [index, value] of columnEntries(walk, HRH.swRunName)) {
    if (value.type !== 4) continue;
    const name = (getString(walk, `${HRH.swRunName}.${index}`) ?? '').slice(0, 64);
    if (!name) continue;
    const app = byName.get(name) ?? { name, processes: 0, memoryKBytes: 0 };
    app.processes += 1;
    app.memoryKBytes += Math.max(0, getInt(walk, `${HRH.swRunPerfMem}.${index}`) ?? 0);
    byName.set(name, app);
  }
  return [...byName.values()]
    .sort((a, b) => b.memoryKBytes - a.memoryKBytes || b.processes - a.processes || (a.name < b.name ? -1 : 1))
    .slice(0, TOP_APPLICATIONS);
}

export function decodeHost(walk: Walk): HostFigures {
  const rows = storageRows(walk);
  const loads = columnEntries(walk, HRH.processorLoad).flatMap(([, v]) =>
    v.type === 2 && typeof v.value === 'number' && v.value >= 0 && v.value <= 100 ? [v.value] : [],
  );
  const uptime = getInt(walk, HRH.systemUptime);
  const disks: HostStorage[] = rows
    .filter((r) => r.type === HRH.typeFixedDisk && r.size > 0)
    .slice(0, MAX_HOST_DISKS)
    .map((r) => ({
      index: r.index,
      description: r.description,
      sizeBytes: r.size,
      usedBytes: r.used,
      usedPercent: percent(Math.min(r.used, r.size), r.size),
    }));
  const count = (column: string) => {
    const n = columnEntries(walk, column).length;
    return n > 0 ? n : undefined;
  };
  const mem = memory(rows);
  return {
    ...(uptime !== undefined ? { uptimeSeconds: Math.floor(uptime / 100) } : {}),
    ...(loads.length > 0 ? { cpuLoadPercent: Math.round((loads.reduce((a, b) => a + b, 0) / loads.length) * 10) / 10 } : {}),
    processors: loads.length,
    ...(mem.usedPercent !== undefined ? { memoryUsedPercent: mem.usedPercent, memorySizeBytes: mem.sizeBytes } : {}),
    disks,
    ...(count(HRH.swInstalledName) !== undefined ? { installedSoftware: count(HRH.swInstalledName) } : {}),
    ...(count(HRH.swRunName) !== undefined ? { runningProcesses: count(HRH.swRunName) } : {}),
    topApplications: applications(walk),
  };
}

/**
 * Whether hrSystemUptime going from `previous` to `now` (hundredths of a second) means the
 * host restarted: it went back, and not by wrapping past 2^32.
 */
export function restartedBetween(previous: number | undefined, now: number | undefined): boolean {
  if (previous === undefined || now === undefined || now >= previous) return false;
  return !(previous >= UPTIME_WRAP - WRAP_MARGIN && now < WRAP_MARGIN);
}

/** The faults a host's figures show: disks over the threshold, memory over it, a restart. */
export function hostFaults(
  figures: Pick<HostFigures, 'disks' | 'memoryUsedPercent'>,
  thresholds: Partial<HostThresholds> | undefined,
  uptime: { previous?: number; now?: number },
): ObservedFault[] {
  const t = { ...HOST_THRESHOLDS, ...thresholds };
  const faults: ObservedFault[] = [];
  for (const disk of figures.disks) {
    if (disk.usedPercent < t.diskPercent) continue;
    faults.push({
      code: 'disk-nearly-full',
      subunit: disk.description,
      severity: 'warning',
      source: `hrStorageUsed ${disk.usedPercent}% of hrStorageSize (threshold ${t.diskPercent}%)`,
    });
  }
  if (figures.memoryUsedPercent !== undefined && figures.memoryUsedPercent >= t.memoryPercent) {
    faults.push({
      code: 'memory-exhausted',
      subunit: '',
      severity: 'critical',
      source: `hrStorageRam ${figures.memoryUsedPercent}% used (threshold ${t.memoryPercent}%)`,
    });
  }
  if (restartedBetween(uptime.previous, uptime.now)) {
    faults.push({
      code: 'restarted',
      subunit: '',
      severity: 'info',
      source: `hrSystemUptime went back from ${Math.floor((uptime.previous ?? 0) / 100)} s to ${Math.floor((uptime.now ?? 0) / 100)} s`,
    });
  }
  return faults;
}
