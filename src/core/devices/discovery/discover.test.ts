import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../store/db.js';
import { addDevice, deviceSerials, getDevice, listDevices, setDeviceSerial } from '../device-store.js';
import { fakeClock, tempDb } from '../testing.js';
import { addDiscovered, matchFound } from './discover.js';
import type { FoundDevice } from './probe.js';

const printer = (address: string, serial?: string): FoundDevice => ({
  address,
  via: 'snmp',
  port: 161,
  kind: 'printer',
  ...(serial ? { serial } : {}),
});

describe('matching found devices with the watched ones', () => {
  let db: Db;
  let cleanup: () => void;
  const clock = fakeClock();
  beforeEach(() => {
    ({ db, cleanup } = tempDb());
    addDevice(db, { id: 'mfp-1', driver: 'snmp', config: { address: '192.0.2.10' } }, clock);
    setDeviceSerial(db, 'mfp-1', 'SN-1');
  });
  afterEach(() => cleanup());

  it('same address and port: watched; same serial elsewhere: moved; else new', () => {
    const found = matchFound(db, [printer('192.0.2.10', 'SN-1'), printer('192.0.2.77', 'SN-2')]);
    expect(found.map((f) => [f.address, f.status, f.deviceId])).toEqual([
      ['192.0.2.10', 'watched', 'mfp-1'],
      ['192.0.2.77', 'new', undefined],
    ]);
    expect(matchFound(db, [printer('192.0.2.11', 'SN-1')])[0]).toMatchObject({
      status: 'moved',
      deviceId: 'mfp-1',
      previousAddress: '192.0.2.10',
    });
    // another port on the same address is another device
    expect(matchFound(db, [{ ...printer('192.0.2.10'), port: 1161 }])[0]?.status).toBe('new');
  });

  it('not moved when the old address answered with that serial in the same scan', () => {
    const found = matchFound(db, [printer('192.0.2.10', 'SN-1'), printer('192.0.2.11', 'SN-1')]);
    expect(found.map((f) => f.status)).toEqual(['watched', 'new']);
  });

  it('--add moves the moved device, adds printers and hosts with their serial, skips the rest', () => {
    const found = matchFound(db, [
      printer('192.0.2.11', 'SN-1'),
      { address: '192.0.2.30', via: 'snmp', port: 1161, kind: 'host', model: 'pc' },
      { address: '192.0.2.40', via: 'snmp', port: 161, kind: 'other' },
      { address: '192.0.2.50', via: 'ipp', port: 631, url: 'ipp://192.0.2.50:631/ipp/print', kind: 'printer', serial: 'SN-5' },
    ]);
    const done = addDiscovered(db, found, { community: 'office' }, clock);
    expect(done.map((f) => [f.status, f.deviceId])).toEqual([
      ['updated', 'mfp-1'],
      ['added', 'host-192-0-2-30-1161'],
      ['skipped', undefined],
      ['added', 'printer-192-0-2-50'],
    ]);
    expect(getDevice(db, 'mfp-1')?.config).toMatchObject({ address: '192.0.2.11' });
    expect(getDevice(db, 'host-192-0-2-30-1161')?.config).toEqual({
      address: '192.0.2.30',
      port: 1161,
      version: '2c',
      community: 'office',
      kind: 'host',
    });
    expect(listDevices(db)).toHaveLength(3);
    expect(deviceSerials(db).get('printer-192-0-2-50')).toBe('SN-5');
  });
});
