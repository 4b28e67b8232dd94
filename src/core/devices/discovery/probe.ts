/**
 * Ask one address what it is: SNMP (v2c, one GETNEXT that reads the system group and lands
 * in Printer-MIB, hrDeviceTable and hrSystem/hrStorage when they exist) and IPP (a TCP
 * connect to the IPP port, then one Get-Printer-Attributes). No answer within the timeout
 * is "nothing there"; nothing found is ever an error.
 */
import net from 'node:net';
import { decodeIdentity } from '../decoders/decode-status.js';
import { HR, HRH, PRT, SYS } from '../decoders/oids.js';
import type { Walk } from '../decoders/walk.js';
import { createIppDriver } from '../drivers/ipp-driver.js';
import { readBasics } from '../drivers/snmp-counters.js';
import { hostIdentity } from '../drivers/snmp-host.js';
import { openSnmpClient } from '../drivers/snmp-session.js';

export type FoundKind = 'printer' | 'host' | 'other';

export interface FoundDevice {
  address: string;
  /** how it answered: SNMP (on `port`) or IPP (at `url`) */
  via: 'snmp' | 'ipp';
  port: number;
  url?: string;
  kind: FoundKind;
  model?: string;
  serial?: string;
  sysObjectId?: string;
}

export interface ProbeOptions {
  snmpPort: number;
  community: string;
  ippPort: number;
  timeoutMs: number;
}

const parent = (oid: string) => oid.slice(0, oid.lastIndexOf('.'));
const PROBES = [
  parent(SYS.descr),
  parent(SYS.objectId),
  parent(SYS.name),
  HR.deviceType,
  PRT.generalSerialNumber,
  parent(HRH.systemUptime),
  HRH.storageType,
];

export async function probeSnmp(address: string, o: ProbeOptions): Promise<FoundDevice | undefined> {
  let client: Awaited<ReturnType<typeof openSnmpClient>> | undefined;
  try {
    client = await openSnmpClient({ address, port: o.snmpPort, version: '2c', community: o.community, timeoutMs: o.timeoutMs, retries: 0 });
    const answers = await client.getNext(PROBES);
    const walk: Walk = new Map();
    for (const a of answers) if (a?.value) walk.set(a.oid, a.value);
    if (walk.size === 0) return undefined;
    const at = (i: number, prefix: string) => answers[i]?.value !== undefined && (answers[i]?.oid ?? '').startsWith(prefix);
    const printer = at(4, '1.3.6.1.2.1.43.') || (at(3, `${HR.deviceType}.`) && answers[3]?.value?.value === HR.typePrinter);
    const host = at(5, `${HRH.system}.`) || at(6, `${HRH.storageType}.`);
    const base = { address, via: 'snmp' as const, port: o.snmpPort };
    if (printer) {
      const { walk: basics, printerIndex } = await readBasics(client);
      const id = decodeIdentity(basics, printerIndex);
      return { ...base, kind: 'printer', ...pick(id.model, id.serial, id.sysObjectId) };
    }
    const id = hostIdentity(walk);
    return { ...base, kind: host ? 'host' : 'other', ...pick(id.model ?? id.sysDescr, undefined, id.sysObjectId) };
  } catch {
    return undefined; // no answer, or not one we understand: nothing there for us
  } finally {
    client?.close();
  }
}

function pick(model: string | undefined, serial: string | undefined, sysObjectId: string | undefined) {
  return { ...(model ? { model } : {}), ...(serial ? { serial } : {}), ...(sysObjectId ? { sysObjectId } : {}) };
}

function tcpOpen(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port, timeout: timeoutMs });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

const ipp = createIppDriver({ maxConcurrent: 256 });

export async function probeIpp(address: string, o: ProbeOptions): Promise<FoundDevice | undefined> {
  if (!(await tcpOpen(address, o.ippPort, o.timeoutMs))) return undefined;
  const url = `ipp://${address}:${o.ippPort}/ipp/print`;
  try {
    const id = await ipp.identify({ id: 'discover', driver: 'ipp', config: { url, timeoutMs: Math.max(o.timeoutMs, 1000) }, addedAt: '' });
    return { address, via: 'ipp', port: o.ippPort, url, kind: 'printer', ...pick(id.model, id.serial, undefined) };
  } catch {
    return undefined;
  }
}
