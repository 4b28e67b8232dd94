/**
 * `rds devices discover`: scan addresses with bounded concurrency and a short timeout,
 * say what answered (kind, model, serial) and whether it is watched already, and add the
 * new ones. A known serial at a new address is that device moved: its address is updated
 * instead of a second device being added.
 */
import { type Clock, systemClock } from '../../clock.js';
import type { Db } from '../../store/db.js';
import { addDevice, changeDeviceAddress, deviceSerials, listDevices, setDeviceSerial } from '../device-store.js';
import { mapLimit } from '../limit.js';
import type { DeviceRecord } from '../types.js';
import { type FoundDevice, type ProbeOptions, probeIpp, probeSnmp } from './probe.js';

export interface DiscoverOptions extends ProbeOptions {
  /** addresses probed at once (default 128) */
  concurrency?: number;
  /** called after each address, for progress */
  onProbed?: (done: number, total: number) => void;
}

/** Every address that answered SNMP (preferred: more to say) or IPP, in address order. */
export async function scanAddresses(addresses: readonly string[], o: DiscoverOptions): Promise<FoundDevice[]> {
  let done = 0;
  const found = await mapLimit(addresses, o.concurrency ?? 128, async (address) => {
    const [snmp, ipp] = await Promise.all([probeSnmp(address, o), probeIpp(address, o)]);
    o.onProbed?.(++done, addresses.length);
    return snmp ?? ipp;
  });
  return found.filter((f): f is FoundDevice => f !== undefined);
}

export type DiscoveredStatus = 'new' | 'watched' | 'moved' | 'added' | 'updated' | 'skipped';
export interface Discovered extends FoundDevice {
  status: DiscoveredStatus;
  /** the device that watches it already (or was added / updated for it) */
  deviceId?: string;
  /** moved / updated: where that device was */
  previousAddress?: string;
}

const DEFAULT_PORTS = { snmp: 161, ipp: 631 };

function whereIs(d: DeviceRecord): { address: string; port: number; via: 'snmp' | 'ipp' } | undefined {
  if (d.driver === 'snmp') return { address: d.config.address, port: d.config.port ?? DEFAULT_PORTS.snmp, via: 'snmp' };
  if (d.driver !== 'ipp') return undefined;
  const url = new URL(d.config.url);
  return { address: url.hostname, port: Number(url.port || DEFAULT_PORTS.ipp), via: 'ipp' };
}

/** Which found devices are watched already, which moved (same serial, other address), which are new. */
export function matchFound(db: Db, found: readonly FoundDevice[]): Discovered[] {
  const devices = listDevices(db);
  const serials = deviceSerials(db);
  const answeredAt = new Set(found.map((f) => `${f.serial ?? ''}@${f.address}`));
  return found.map((f) => {
    const same = devices.find((d) => {
      const w = whereIs(d);
      return w?.address === f.address && w.via === f.via && w.port === f.port;
    });
    if (same) return { ...f, status: 'watched', deviceId: same.id };
    const moved = f.serial ? devices.find((d) => serials.get(d.id) === f.serial) : undefined;
    const was = moved && whereIs(moved);
    // the old address answered with this serial too in this scan: not moved, one more way in
    if (moved && was && !answeredAt.has(`${f.serial}@${was.address}`)) {
      return { ...f, status: 'moved', deviceId: moved.id, previousAddress: was.address };
    }
    return { ...f, status: 'new' };
  });
}

function newId(db: Db, f: FoundDevice): string {
  const base = `${f.kind}-${f.address.replace(/[.:]/g, '-')}${f.port === DEFAULT_PORTS[f.via] ? '' : `-${f.port}`}`;
  const taken = new Set(listDevices(db).map((d) => d.id));
  let id = base;
  for (let i = 2; taken.has(id); i++) id = `${base}-${i}`;
  return id;
}

/** Add the new printers and hosts, move the moved ones; in one transaction. Others are skipped. */
export function addDiscovered(db: Db, found: readonly Discovered[], o: { community: string }, clock: Clock = systemClock): Discovered[] {
  return db
    .transaction(() =>
      found.map((f): Discovered => {
        if (f.status === 'moved' && f.deviceId) {
          changeDeviceAddress(db, f.deviceId, f.via === 'snmp' ? { address: f.address, port: f.port } : { url: f.url });
          return { ...f, status: 'updated' };
        }
        if (f.status !== 'new') return f;
        if (f.kind === 'other') return { ...f, status: 'skipped' };
        const id = newId(db, f);
        const config =
          f.via === 'ipp'
            ? { url: f.url }
            : {
                address: f.address,
                ...(f.port === 161 ? {} : { port: f.port }),
                version: '2c',
                community: o.community,
                ...(f.kind === 'host' ? { kind: 'host' } : {}),
              };
        addDevice(db, { id, driver: f.via, config }, clock);
        if (f.serial) setDeviceSerial(db, id, f.serial);
        return { ...f, status: 'added', deviceId: id };
      }),
    )
    .immediate();
}
