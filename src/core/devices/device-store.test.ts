import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { parseDeviceAddress, validateDeviceConfig } from './device-config.js';
import { addDevice, getDevice, listDevices, redactDeviceConfig, removeDevice } from './device-store.js';
import { createSimulatedDriver, makeSimulatedPrinter, updateSimulatedDevice, writeSimulatedFleetFile } from './drivers/simulated-driver.js';
import { fakeClock, tempDb } from './testing.js';

describe('device config', () => {
  it.each([
    [{ address: '192.0.2.7' }, { address: '192.0.2.7', version: '2c', community: 'public' }],
    [
      { address: 'mfp.lan', port: '1161', version: 'v1', community: 'c0mm' },
      { address: 'mfp.lan', port: 1161, version: '1', community: 'c0mm' },
    ],
    [
      { address: '192.0.2.7', version: 3, v3: { user: 'mon', authKey: 'authpass1', privKey: 'privpass1' } },
      {
        address: '192.0.2.7',
        version: '3',
        v3: { user: 'mon', level: 'authPriv', authProtocol: 'sha', authKey: 'authpass1', privProtocol: 'aes', privKey: 'privpass1' },
      },
    ],
  ])('snmp %j is normalised', (raw, config) => {
    expect(validateDeviceConfig('snmp', raw)).toEqual({ driver: 'snmp', config });
  });

  it.each([
    ['snmp', {}, /--address/],
    ['snmp', { address: 'x', version: '4' }, /version must be 1, 2c or 3/],
    ['snmp', { address: 'x', port: 70000 }, /port must be an integer/],
    ['snmp', { address: 'x', version: '3' }, /SNMPv3 needs a user/],
    ['snmp', { address: 'x', version: '3', v3: { user: 'u', authKey: 'short' } }, /at least 8 characters/],
    ['snmp', { address: 'x', version: '3', v3: { user: 'u', level: 'authPriv', authKey: 'longenough' } }, /needs a priv key/],
    ['simulated', {}, /--file/],
    ['ipp', { address: 'x' }, /IPP device needs --address/],
    ['ipp', { url: 'http://printer/ipp/print' }, /must start with ipp:\/\/ or ipps:\/\//],
    ['ipp', { url: 'ipp://user:pw@printer/ipp/print' }, /no user, password/],
    ['ipp', { url: 'not a url' }, /is not a URL/],
    ['lpd', { address: 'x' }, /unknown driver "lpd" \(expected snmp, ipp or simulated\)/],
  ])('%s %j is refused', (driver, raw, message) => {
    expect(() => validateDeviceConfig(driver, raw)).toThrow(message);
  });

  it('error messages never echo a secret', () => {
    try {
      validateDeviceConfig('snmp', { address: 'x', version: '3', v3: { user: 'u', authKey: 'sekrit', privKey: 'alsosekrit' } });
    } catch (e) {
      expect(String(e)).not.toMatch(/sekrit/);
    }
  });

  it.each([
    ['192.0.2.1', { address: '192.0.2.1' }],
    ['printer.lan:1161', { address: 'printer.lan', port: 1161 }],
    ['[2001:db8::1]:161', { address: '2001:db8::1', port: 161 }],
    ['2001:db8::1', { address: '2001:db8::1' }],
  ])('address %s', (text, parsed) => {
    expect(parseDeviceAddress(text)).toEqual(parsed);
  });
});

describe('devices CRUD', () => {
  let t: ReturnType<typeof tempDb>;
  let db: Db;
  const clock = fakeClock();
  beforeEach(() => {
    t = tempDb();
    db = t.db;
  });
  afterEach(() => t.cleanup());

  it('add, list, get, remove; duplicates and bad ids refused', () => {
    addDevice(db, { id: 'mfp-2f', driver: 'snmp', config: { address: '192.0.2.9', community: 'private' } }, clock);
    clock.advance(1000);
    addDevice(db, { id: 'sim-1', driver: 'simulated', config: { file: '/tmp/p.json', name: 'printer-a' } }, clock);
    expect(listDevices(db).map((d) => d.id)).toEqual(['mfp-2f', 'sim-1']);
    expect(getDevice(db, 'sim-1')).toEqual({
      id: 'sim-1',
      driver: 'simulated',
      config: { file: '/tmp/p.json', name: 'printer-a' },
      addedAt: '2026-11-24T10:00:01.000Z',
    });
    expect(() => addDevice(db, { id: 'mfp-2f', driver: 'snmp', config: { address: 'y' } })).toThrow(/already exists/);
    expect(() => addDevice(db, { id: '../etc', driver: 'snmp', config: { address: 'y' } })).toThrow(/device id/);
    expect(removeDevice(db, 'mfp-2f', clock)).toBe(true);
    expect(listDevices(db).map((d) => d.id)).toEqual(['sim-1']);
  });

  it('redacts community and v3 keys', () => {
    const snmp = addDevice(db, { id: 'a', driver: 'snmp', config: { address: 'h', community: 'private' } });
    const v3 = addDevice(db, {
      id: 'b',
      driver: 'snmp',
      config: { address: 'h', version: '3', v3: { user: 'mon', authKey: 'authpass1', privKey: 'privpass1' } },
    });
    expect(redactDeviceConfig(snmp)).toEqual({ address: 'h', version: '2c', community: '***' });
    expect(JSON.stringify(redactDeviceConfig(v3))).not.toMatch(/authpass1|privpass1/);
    expect(redactDeviceConfig(v3)).toMatchObject({ v3: { user: 'mon', authKey: '***', privKey: '***', authProtocol: 'sha' } });
  });
});

describe('simulated driver', () => {
  let t: ReturnType<typeof tempDb>;
  beforeEach(() => {
    t = tempDb();
  });
  afterEach(() => t.cleanup());

  it('re-reads the file on every poll', async () => {
    const file = path.join(t.dir, 'fleet', 'printers.json');
    writeSimulatedFleetFile(file, { 'printer-a': makeSimulatedPrinter(4) });
    const device = { id: 'agent1-p1', driver: 'simulated' as const, config: { file, name: 'printer-a' }, addedAt: '' };
    const driver = createSimulatedDriver();
    expect((await driver.pollFaults(device)).faults).toEqual([]);
    updateSimulatedDevice(file, 'printer-a', (d) => ({ ...d, faults: [{ code: 'jam', subunit: 'tray 2' }], status: 'warning' }));
    const snapshot = await driver.pollFaults(device);
    expect(snapshot.faults).toEqual([{ code: 'jam', subunit: 'tray 2', severity: 'critical', source: 'simulated' }]);
    expect(snapshot.deviceStatus).toBe('warning');
    expect(await driver.identify(device)).toMatchObject({ model: 'Sim ColorMFP 3570', serial: 'SIM-0004' });
    updateSimulatedDevice(file, 'printer-a', (d) => ({ ...d, reachable: false }));
    await expect(driver.pollFaults(device)).rejects.toMatchObject({ code: 'DEVICE_UNREACHABLE' });
    updateSimulatedDevice(file, 'printer-a', (d) => ({ ...d, reachable: true, faults: [{ code: 'on-fire' as never }] }));
    await expect(driver.pollFaults(device)).rejects.toMatchObject({ code: 'DEVICE_ERROR', message: /unknown fault code "on-fire"/ });
    await expect(driver.pollFaults({ ...device, config: { file, name: 'nope' } })).rejects.toMatchObject({ code: 'DEVICE_ERROR' });
  });
});
