import { type Clock, systemClock } from '../clock.js';
import { UsageError } from '../errors.js';
import type { Db } from '../store/db.js';
import { validateDeviceConfig } from './device-config.js';
import type { DeviceRecord, DriverName } from './types.js';

/** Device ids appear in mail, logs and file names: keep them plain. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;

interface DeviceRow {
  id: string;
  driver: DriverName;
  config: string;
  added_at: string;
}

export interface AddDeviceInput {
  id: string;
  driver: string;
  config: unknown;
}

/** Add a device; its config is validated for its driver first (UsageError when wrong). */
export function addDevice(db: Db, input: AddDeviceInput, clock: Clock = systemClock): DeviceRecord {
  if (!ID.test(input.id)) {
    throw new UsageError('DEVICE_ID_INVALID', `device id "${input.id}" must be 1–64 letters, digits or . _ : @ - (e.g. mfp-2f-east)`);
  }
  const record = { id: input.id, addedAt: clock.now().toISOString(), ...validateDeviceConfig(input.driver, input.config) } as DeviceRecord;
  const insert = db.prepare('INSERT INTO devices (id, driver, config, added_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING');
  const { changes } = insert.run(record.id, record.driver, JSON.stringify(record.config), record.addedAt);
  if (changes === 0) throw new UsageError('DEVICE_EXISTS', `device "${input.id}" already exists; remove it first to change it`);
  return record;
}

export function listDevices(db: Db): DeviceRecord[] {
  const rows = db.prepare('SELECT id, driver, config, added_at FROM devices ORDER BY added_at, id').all() as DeviceRow[];
  return rows.map(toRecord);
}

export function getDevice(db: Db, id: string): DeviceRecord | undefined {
  const row = db.prepare('SELECT id, driver, config, added_at FROM devices WHERE id = ?').get(id) as DeviceRow | undefined;
  return row ? toRecord(row) : undefined;
}

/**
 * Remove a device. Its fault history and counter readings stay (the host may still ask for
 * them); its open events are closed without a clear report, since nobody watches it now.
 */
export function removeDevice(db: Db, id: string, clock: Clock = systemClock): boolean {
  const now = clock.now().toISOString();
  return db
    .transaction(() => {
      const { changes } = db.prepare('DELETE FROM devices WHERE id = ?').run(id);
      if (changes === 0) return false;
      db.prepare('DELETE FROM device_poll_state WHERE device_id = ?').run(id);
      db.prepare(
        "UPDATE fault_events SET cleared_at = ?, detail = coalesce(detail || '; ', '') || 'device removed' WHERE device_id = ? AND cleared_at IS NULL",
      ).run(now, id);
      return true;
    })
    .immediate();
}

/**
 * Each device's serial: the one discovery recorded, else the latest counter reading's.
 * What `devices discover` matches a found device by when its address changed.
 */
export function deviceSerials(db: Db): Map<string, string> {
  const rows = db
    .prepare(
      `SELECT d.id, coalesce(d.serial,
         (SELECT serial FROM counter_readings c WHERE c.device_id = d.id AND serial IS NOT NULL ORDER BY c.id DESC LIMIT 1)) AS serial
       FROM devices d`,
    )
    .all() as Array<{ id: string; serial: string | null }>;
  return new Map(rows.flatMap((r) => (r.serial ? [[r.id, r.serial] as [string, string]] : [])));
}

/** Record the serial a device answered with (discovery). */
export function setDeviceSerial(db: Db, id: string, serial: string): void {
  db.prepare('UPDATE devices SET serial = ? WHERE id = ?').run(serial, id);
}

/**
 * A device found at a new address: its config (checked again) gets the new address (snmp)
 * or URL (ipp); its id, history and readings stay.
 */
export function changeDeviceAddress(db: Db, id: string, change: { address?: string; port?: number; url?: string }): DeviceRecord {
  const device = getDevice(db, id);
  if (!device || device.driver === 'simulated') throw new UsageError('UNKNOWN_DEVICE', `no SNMP or IPP device '${id}'`);
  const config =
    device.driver === 'snmp'
      ? { ...device.config, ...(change.address ? { address: change.address } : {}), ...(change.port ? { port: change.port } : {}) }
      : { ...device.config, ...(change.url ? { url: change.url } : {}) };
  const checked = validateDeviceConfig(device.driver, config);
  db.prepare('UPDATE devices SET config = ? WHERE id = ?').run(JSON.stringify(checked.config), id);
  return { ...device, config: checked.config } as DeviceRecord;
}

/** The config with secrets replaced by "***", for `devices list` and for logs. */
export function redactDeviceConfig(device: DeviceRecord): Record<string, unknown> {
  if (device.driver === 'simulated' || device.driver === 'ipp') return { ...device.config };
  const { community, v3, ...rest } = device.config;
  return {
    ...rest,
    ...(community === undefined ? {} : { community: '***' }),
    ...(v3 ? { v3: { ...v3, authKey: v3.authKey && '***', privKey: v3.privKey && '***' } } : {}),
  };
}

function toRecord(row: DeviceRow): DeviceRecord {
  return { id: row.id, driver: row.driver, config: JSON.parse(row.config), addedAt: row.added_at } as DeviceRecord;
}
