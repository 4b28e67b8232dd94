/**
 * Meter reads by billing date over everything the host stored (`rds counters export --on`
 * and `--cycle monthly`, docs/service.md): one row per device the host knows, whatever it
 * has: a read, an estimate with its basis, or missing with the reason.
 */
import type { Db } from '../store/db.js';
import type { HostCounterRow } from './counter-readings.js';
import { type MeterRead, type MeterReading, type MeterReadOptions, meterReadOn, pagesBetween } from './meter-reads.js';

export interface DeviceHistory {
  agentId: string;
  deviceId: string;
  serial: string | null;
  readings: (MeterReading & { mono: number | null; colour: number | null; readAt: string })[];
}

export function histories(db: Db): DeviceHistory[] {
  const devices = db
    .prepare(
      `SELECT agent_id, device_id FROM host_counters UNION SELECT agent_id, device_id FROM host_device_seen ORDER BY agent_id, device_id`,
    )
    .all() as { agent_id: string; device_id: string }[];
  const rows = db
    .prepare('SELECT agent_id, device_id, serial, read_at, total, mono, colour, reading_id FROM host_counters ORDER BY read_at')
    .all() as Pick<HostCounterRow, 'agent_id' | 'device_id' | 'serial' | 'read_at' | 'total' | 'mono' | 'colour' | 'reading_id'>[];
  const byDevice = new Map<string, DeviceHistory>();
  for (const d of devices)
    byDevice.set(`${d.agent_id}\u0000${d.device_id}`, { agentId: d.agent_id, deviceId: d.device_id, serial: null, readings: [] });
  for (const r of rows) {
    const h = byDevice.get(`${r.agent_id}\u0000${r.device_id}`) as DeviceHistory;
    const at = Date.parse(r.read_at);
    if (r.total === null || Number.isNaN(at)) continue;
    h.serial = r.serial ?? h.serial;
    h.readings.push({ at, total: r.total, mono: r.mono, colour: r.colour, readAt: r.read_at, readingId: r.reading_id });
  }
  return [...byDevice.values()];
}

/** A figure beside total (mono, colour) for a read: the reading's, or interpolated over the same basis. */
function figure(h: DeviceHistory, read: MeterRead, date: number, key: 'mono' | 'colour'): number | null {
  if (read.status === 'read') return h.readings.find((r) => r.at === read.at)?.[key] ?? null;
  if (read.status !== 'estimated') return null;
  const [a, b] = read.basis.map((x) => h.readings.find((r) => r.at === x.at));
  const va = a?.[key];
  const vb = b?.[key];
  if (va === null || va === undefined || vb === null || vb === undefined || !a || !b || vb < va || a.at === b.at) return null;
  return Math.max(0, Math.floor(va + ((vb - va) * (date - a.at)) / (b.at - a.at)));
}

export function readRow(h: DeviceHistory, read: MeterRead, date: number) {
  const base = { agentId: h.agentId, deviceId: h.deviceId, serial: h.serial, date: new Date(date).toISOString(), status: read.status };
  if (read.status === 'missing')
    return {
      ...base,
      readAt: null,
      total: null,
      mono: null,
      colour: null,
      basis: null,
      method: null,
      flags: [] as string[],
      reason: read.reason,
    };
  return {
    ...base,
    readAt: read.status === 'read' ? new Date(read.at).toISOString() : null,
    total: read.total,
    mono: figure(h, read, date, 'mono'),
    colour: figure(h, read, date, 'colour'),
    method: read.status === 'estimated' ? read.method : null,
    basis: read.status === 'estimated' ? read.basis.map((b) => ({ readAt: new Date(b.at).toISOString(), total: b.total })) : null,
    flags: read.status === 'read' && read.reset ? ['reset'] : [],
    reason: null,
  };
}

export type ReadRow = ReturnType<typeof readRow>;

/** One row per device: its read (or estimate, or why it is missing) at `date`. */
export function readsOn(all: DeviceHistory[], date: number, readOptions: MeterReadOptions): ReadRow[] {
  return all.map((h) => readRow(h, meterReadOn(h.readings, date, readOptions), date));
}

/** One row per device for the cycle start..end: the start and end reads and the pages used between. */
export function cycleRows(all: DeviceHistory[], start: Date, end: Date, readOptions: MeterReadOptions) {
  return all.map((h) => {
    const a = meterReadOn(h.readings, start.getTime(), readOptions);
    const b = meterReadOn(h.readings, end.getTime(), readOptions);
    const startRow = readRow(h, a, start.getTime());
    const endRow = readRow(h, b, end.getTime());
    const inCycle = h.readings.some((r) => r.at > start.getTime() && r.at <= end.getTime());
    const flags: string[] = [];
    if (!inCycle) flags.push('no-reading-in-cycle');
    let pages: number | null = null;
    if (a.status !== 'missing' && b.status !== 'missing') {
      const used = pagesBetween(
        h.readings,
        { at: a.status === 'read' ? a.at : start.getTime(), total: a.total },
        { at: b.status === 'read' ? b.at : end.getTime(), total: b.total },
      );
      pages = used.pages;
      if (used.reset) flags.push('reset');
    }
    if (a.status === 'estimated' || b.status === 'estimated') flags.push('estimated');
    const status =
      a.status === 'missing' || b.status === 'missing' || !inCycle
        ? 'missing'
        : flags.includes('reset')
          ? 'reset'
          : flags.includes('estimated')
            ? 'estimated'
            : 'read';
    return {
      agentId: h.agentId,
      deviceId: h.deviceId,
      serial: h.serial,
      periodStart: start.toISOString(),
      periodEnd: end.toISOString(),
      start: startRow,
      end: endRow,
      pages,
      status,
      flags,
    };
  });
}

export type CycleRow = ReturnType<typeof cycleRows>[number];
