import { formatTable } from '../text/table.js';
import { redactDeviceConfig } from './device-store.js';
import type { DeviceRecord } from './types.js';

/** The devices as `rds devices list` shows them: secrets redacted (also in --json). */
export function redactedDevices(devices: DeviceRecord[]): Record<string, unknown>[] {
  return devices.map((d) => ({ ...d, config: redactDeviceConfig(d) })) as Record<string, unknown>[];
}

/** The table of `rds devices list`: where each device is and, for SNMP, the version and v3 level. */
export function deviceTable(devices: Record<string, unknown>[]): string {
  const where = (d: Record<string, unknown>) => {
    const c = d.config as Record<string, unknown>;
    return d.driver === 'snmp' ? `${c.address}${c.port ? `:${c.port}` : ''}` : String(c.url ?? c.file ?? '');
  };
  const snmp = (d: Record<string, unknown>) => {
    if (d.driver !== 'snmp') return '-';
    const c = d.config as { version?: string; v3?: { level?: string } };
    return c.version === '3' ? `v3 ${c.v3?.level ?? ''}`.trim() : `v${c.version ?? '2c'}`;
  };
  if (devices.length === 0) return 'no devices';
  return formatTable(
    ['Device', 'Driver', 'Where', 'SNMP'],
    devices.map((d) => [String(d.id), String(d.driver), where(d), snmp(d)]),
  );
}
