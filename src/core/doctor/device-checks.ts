import type { Db } from '../store/db.js';
import { type Check, fail, pass } from './check.js';

const DEVICE_TIMEOUT_MS = 2_000;

/** One line per configured device: does it answer a short identify (agent side of `rds doctor`)? */
export async function deviceChecks(db: Db | undefined): Promise<Check[]> {
  if (!db) return [fail('devices', 'not checked: the state database did not open', 'fix the state database first')];
  const { listDevices, createDriverRegistry } = await import('../devices/index.js');
  const devices = listDevices(db);
  if (devices.length === 0) return [pass('devices', 'none configured yet (rds devices add)')];
  const drivers = createDriverRegistry({ snmp: { timeoutMs: DEVICE_TIMEOUT_MS, retries: 0 } });
  return Promise.all(
    devices.map(async (device): Promise<Check> => {
      const name = `device ${device.id}`;
      const where =
        device.driver === 'snmp'
          ? `${device.config.address}:${device.config.port ?? 161}`
          : device.driver === 'ipp'
            ? device.config.url
            : `simulated ${device.config.file}`;
      try {
        const driver = drivers[device.driver];
        if (!driver) throw new Error(`no driver '${device.driver}' in this rds`);
        // a short look: at most DEVICE_TIMEOUT_MS per request, no retries, whatever the device's own setting
        const quick: typeof device =
          device.driver === 'snmp'
            ? {
                ...device,
                config: {
                  ...device.config,
                  timeoutMs: Math.min(device.config.timeoutMs ?? DEVICE_TIMEOUT_MS, DEVICE_TIMEOUT_MS),
                  retries: 0,
                },
              }
            : device;
        const identity = await driver.identify(quick);
        return pass(
          name,
          `${where} answers${identity.model ? `: ${identity.model}` : identity.sysDescr ? `: ${identity.sysDescr.slice(0, 60)}` : ''}`,
        );
      } catch (error) {
        return fail(
          name,
          `${where}: ${(error as Error).message}`,
          device.driver === 'snmp'
            ? 'check the address, the SNMP version and community or v3 credentials, and that UDP reaches the device (rds devices list)'
            : 'check the simulated fleet file',
        );
      }
    }),
  );
}
