/**
 * The counter readings the host stored (host_counters), as `rds counters export` lists
 * them: one row per reading, with the per-service and per-paper-size totals.
 */
import type { Db } from '../store/db.js';

/** A host_counters row. */
export interface HostCounterRow {
  agent_id: string;
  device_id: string;
  serial: string | null;
  read_at: string;
  total: number | null;
  mono: number | null;
  colour: number | null;
  reading_id: string;
  reading: string;
}

interface StoredReading {
  byService?: Record<string, { total?: number }>;
  byPaperSize?: Record<string, { total?: number }>;
  flags?: string[];
  host?: Record<string, unknown> | null;
}

/** A host's (HOST-RESOURCES-MIB) figures in one reading, as the export shows them. */
export interface HostColumns {
  uptimeSeconds: number | null;
  cpuLoadPercent: number | null;
  memoryUsedPercent: number | null;
  /** the fullest disk's use */
  diskUsedPercent: number | null;
  restarts: number | null;
}
export const HOST_COLUMNS = ['uptimeSeconds', 'cpuLoadPercent', 'memoryUsedPercent', 'diskUsedPercent', 'restarts'] as const;

function hostColumns(host: StoredReading['host']): HostColumns | null {
  if (typeof host !== 'object' || host === null) return null;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const disks = Array.isArray(host.disks) ? host.disks.map((d) => n((d as { usedPercent?: unknown } | null)?.usedPercent)) : [];
  const used = disks.filter((d): d is number => d !== null);
  return {
    uptimeSeconds: n(host.uptimeSeconds),
    cpuLoadPercent: n(host.cpuLoadPercent),
    memoryUsedPercent: n(host.memoryUsedPercent),
    diskUsedPercent: used.length > 0 ? Math.max(...used) : null,
    restarts: n(host.restarts),
  };
}

/** A row stored by an older rds or damaged in the file must not stop the export: it is flagged. */
function readStored(json: string): StoredReading {
  try {
    const full = JSON.parse(json) as StoredReading;
    const sets = (m: unknown) => typeof m === 'object' && m !== null && Object.values(m).every((v) => typeof v === 'object' && v !== null);
    if (typeof full !== 'object' || full === null || !sets(full.byService ?? {}) || !sets(full.byPaperSize ?? {})) {
      return { flags: ['unreadable'] };
    }
    return { ...full, flags: Array.isArray(full.flags) ? full.flags.map(String) : [] };
  } catch {
    return { flags: ['unreadable'] };
  }
}

export interface CounterReading {
  agentId: string;
  deviceId: string;
  serial: string | null;
  readAt: string;
  total: number | null;
  mono: number | null;
  colour: number | null;
  byService: Record<string, number | null>;
  byPaperSize: Record<string, number | null>;
  flags: string[];
  /** hosts only (device kind host); null for printers */
  host: HostColumns | null;
}

/** Every reading taken at or after `since` (ISO 8601; null: all), oldest first. */
export function counterReadings(db: Db, since: string | null): CounterReading[] {
  const rows = db
    .prepare('SELECT * FROM host_counters WHERE (? IS NULL OR read_at >= ?) ORDER BY read_at, agent_id, device_id')
    .all(since, since) as HostCounterRow[];
  return rows.map((r) => {
    const full = readStored(r.reading);
    return {
      agentId: r.agent_id,
      deviceId: r.device_id,
      serial: r.serial,
      readAt: r.read_at,
      total: r.total,
      mono: r.mono,
      colour: r.colour,
      byService: Object.fromEntries(Object.entries(full.byService ?? {}).map(([k, v]) => [k, v.total ?? null])),
      byPaperSize: Object.fromEntries(Object.entries(full.byPaperSize ?? {}).map(([k, v]) => [k, v.total ?? null])),
      flags: full.flags ?? [],
      host: hostColumns(full.host),
    };
  });
}
