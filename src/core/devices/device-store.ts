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
