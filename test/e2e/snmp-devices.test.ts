// The devices core against REAL SNMP agents on 127.0.0.1 (started by test/support/servers.ts):
// snmpsim serving the printer walks (one device per community) and the scriptable snmpd
// whose data file is rewritten while the agent runs. Two agents of our own are started
// here as well: an snmpd we stop (device-unreachable) and an snmpsimd with an SNMPv3 user.
import { execFile, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addDevice,
  collectCountersPass,
  createDriverRegistry,
  type DeviceRecord,
  listDevices,
  listFaultEvents,
  listPendingFaultReports,
  watchFaultsPass,
} from '../../src/core/devices/index.js';
import { type Db, openDb } from '../../src/core/store/db.js';
import { setSnmprecValues, snmpdTestbed, snmpsimTestbed } from '../support/testbed.js';

const SCRIPTS = fileURLToPath(new URL('../../scripts/testbed/', import.meta.url));
const run = promisify(execFile);
const ERROR_STATE = '1.3.6.1.2.1.25.3.5.1.2.1';
const ALERT = (column: number, row: number) => `1.3.6.1.2.1.43.18.1.1.${column}.1.${row}`;
const ALL_EVENTS = '1.3.6.1.2.1.43.5.1.1.19.1';

async function freeUdpPort(): Promise<number> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

describe('SNMP devices against real agents', () => {
  let dir: string;
  let db: Db;
  const drivers = createDriverRegistry({ snmp: { timeoutMs: 1000, retries: 1 } });
  const passOpts = () => ({ drivers, concurrency: 8 });
  const only = (id: string) => listDevices(db).filter((d) => d.id === id);
  /**
   * snmpd starts each pass_persist helper (a Node process) on the first request for its
   * subtree, which can take longer than a short timeout: poll through the driver (without
   * touching the fault state) until every subtree answers.
   */
  const answering = async (device: DeviceRecord) => {
    for (let i = 0; i < 40; i++) {
      if (
        await drivers.snmp?.pollFaults(device).then(
          () => true,
          () => false,
        )
      )
        return;
    }
    throw new Error(`${device.id} never answered`);
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-snmp-e2e-'));
    db = openDb(path.join(dir, 'state'));
  });
  afterAll(() => {
    db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('snmpsim: several walks on one port, one device per community (v2c and v1)', async () => {
    const sim = snmpsimTestbed();
    const snmp = (community: string, version = '2c') => ({ address: sim.host, port: sim.port, version, community });
    addDevice(db, { id: 'sharp', driver: 'snmp', config: snmp('sharp-mx3570n') });
    addDevice(db, { id: 'brother-v1', driver: 'snmp', config: snmp('brother-mfc-l2710dw', '1') });
    addDevice(db, { id: 'pwg', driver: 'snmp', config: snmp('pwg-counter-handwritten') });
    addDevice(db, { id: 'fleet-7', driver: 'snmp', config: snmp('printer-007') });
    const devices = ['sharp', 'brother-v1', 'pwg', 'fleet-7'].flatMap(only);

    const faults = await watchFaultsPass(db, devices, passOpts());
    expect(faults.failed).toBe(0);
    expect(faults.reports.map((r) => [r.kind, r.event.deviceId, r.event.code, r.event.subunit])).toEqual([
      ['raised', 'sharp', 'toner-low', ''],
    ]);
    expect(faults.devices.find((d) => d.deviceId === 'sharp')?.snapshot).toMatchObject({
      deviceStatus: 'warning',
      errorState: ['lowToner'],
    });

    const counters = await collectCountersPass(db, devices, passOpts());
    expect(counters.failures).toEqual([]);
    const byId = Object.fromEntries(counters.readings.map((r) => [r.deviceId, r]));
    expect(byId.sharp).toMatchObject({ serial: '6509415X00', model: 'SHARP MX-3570N', total: 121104, mono: 91164, colour: 29940 });
    expect(byId.sharp?.byService.copy).toEqual({ total: 38804, mono: 37485, colour: 1319 });
    expect(byId.sharp?.sources.mono?.oids).toEqual(['1.3.6.1.4.1.2385.1.1.19.2.1.3.5.4.61']);
    expect(byId.sharp?.supplies).toHaveLength(14);
    // v1: the vendor-serial probes are unknown OIDs, which fail a whole v1 GET (noSuchName)
    expect(byId['brother-v1']).toMatchObject({
      serial: '000A5J431816',
      model: 'Brother MFC-L2710DW series',
      total: null,
      flags: ['no-counters', 'first-reading'],
    });
    expect(byId.pwg).toMatchObject({ total: 50000, mono: 38000, colour: 12000, paperSizeUnit: 'sheets' });
    expect(byId.pwg?.byPaperSize.iso_a4_210x297mm).toEqual({ total: 41000, mono: 32000, colour: 9000 });
    expect(byId['fleet-7']).toMatchObject({ serial: 'SN-007', total: 10000 + 7 * 37 });
    expect(byId['fleet-7']?.sources.total).toEqual({ profile: 'printer-mib', oids: ['1.3.6.1.2.1.43.10.2.1.4.1.1'], wrapAt: 2 ** 32 });
  });

  it('live snmpd: jam raised → one event; cleared after two clean polls; v1 skips the alert walk on prtAlertAllEvents', async () => {
    const snmpd = snmpdTestbed();
    const original = fs.readFileSync(snmpd.dataFile, 'utf8');
    try {
      const config = (version: string) => ({ address: snmpd.host, port: snmpd.port, version, community: snmpd.community });
      addDevice(db, { id: 'live', driver: 'snmp', config: config('2c') });
      addDevice(db, { id: 'live-v1', driver: 'snmp', config: config('1') });
      const live = [...only('live'), ...only('live-v1')];
      for (const d of live) await answering(d);
      const pass = async () => {
        const r = await watchFaultsPass(db, live, passOpts());
        expect(r.failed).toBe(0);
        const walked = Object.fromEntries(r.devices.map((d) => [d.deviceId, d.snapshot?.alertsWalked]));
        return { reports: r.reports.map((x) => `${x.event.deviceId} ${x.kind} ${x.event.code}/${x.event.subunit}`).sort(), walked, r };
      };
      setSnmprecValues(snmpd.dataFile, { [ALL_EVENTS]: '65|4' });
      expect(await pass()).toMatchObject({ reports: [], walked: { live: true, 'live-v1': true } });
      // v1 has no GETBULK: prtAlertAllEvents unchanged and an empty table last time → no walk
      expect(await pass()).toMatchObject({ reports: [], walked: { live: true, 'live-v1': false } });

      // a jam in input tray 2: error-state bit 5 and a prtAlertTable row (RFC 3805)
      setSnmprecValues(snmpd.dataFile, {
        [ERROR_STATE]: '4x|0400',
        [ALL_EVENTS]: '65|5',
        [ALERT(2, 3)]: '2|3',
        [ALERT(4, 3)]: '2|8',
        [ALERT(5, 3)]: '2|2',
        [ALERT(6, 3)]: '2|9102',
        [ALERT(7, 3)]: '2|8',
        [ALERT(8, 3)]: '4|Paper jam',
        [ALERT(9, 3)]: '67|123000',
      });
      const jam = await pass();
      expect(jam.reports).toEqual(['live raised jam/tray 2', 'live-v1 raised jam/tray 2']);
      expect(jam.r.reports[0]?.event).toMatchObject({ severity: 'critical', detail: 'Paper jam', source: 'prtAlertCode 8, group 8.2' });
      expect(await pass()).toMatchObject({ reports: [], walked: { live: true, 'live-v1': true } }); // still jammed: last-seen only
      expect(listFaultEvents(db, { open: true, deviceId: 'live' })).toHaveLength(1);

      // cleared: the row vanishes and the bit drops; two clean polls needed
      setSnmprecValues(
        snmpd.dataFile,
        Object.fromEntries([[ERROR_STATE, '4x|00'], ...[2, 4, 5, 6, 7, 8, 9].map((c) => [ALERT(c, 3), null])]),
      );
      expect((await pass()).reports).toEqual([]);
      expect((await pass()).reports).toEqual(['live cleared jam/tray 2', 'live-v1 cleared jam/tray 2']);
      expect(
        listPendingFaultReports(db)
          .filter((r) => r.event.deviceId === 'live')
          .map((r) => r.kind),
      ).toEqual(['raised', 'cleared']);
    } finally {
      fs.writeFileSync(`${snmpd.dataFile}.restore`, original);
      fs.renameSync(`${snmpd.dataFile}.restore`, snmpd.dataFile);
    }
  });

  it('agent stopped → device-unreachable after three failed polls, cleared when it answers again', async () => {
    const own = path.join(dir, 'own-snmpd');
    const port = await freeUdpPort();
    const env = { ...process.env, SNMP_PORT: String(port), SNMP_COMMUNITY: 'public' };
    await run(path.join(SCRIPTS, 'start-snmp.sh'), [own], { env });
    try {
      addDevice(db, {
        id: 'stoppable',
        driver: 'snmp',
        config: { address: '127.0.0.1', port, version: '2c', timeoutMs: 1000, retries: 0 },
      });
      const device = only('stoppable');
      const warmUp = () => answering(device[0] as DeviceRecord);
      await warmUp();
      expect((await watchFaultsPass(db, device, passOpts())).failed).toBe(0);
      execFileSync(path.join(SCRIPTS, 'stop-snmp.sh'), [own]);
      const kinds: string[][] = [];
      for (let i = 0; i < 4; i++) {
        const pass = await watchFaultsPass(db, device, passOpts());
        expect(pass.devices[0]?.error?.code).toBe('DEVICE_UNREACHABLE');
        kinds.push(pass.reports.map((r) => `${r.kind}:${r.event.code}`));
      }
      expect(kinds).toEqual([[], [], ['raised:device-unreachable'], []]);
      await run(path.join(SCRIPTS, 'start-snmp.sh'), [own], { env });
      await warmUp();
      const back = await watchFaultsPass(db, device, passOpts());
      expect(back.reports.map((r) => `${r.kind}:${r.event.code}`)).toEqual(['cleared:device-unreachable']);
    } finally {
      execFileSync(path.join(SCRIPTS, 'stop-snmp.sh'), [own]);
    }
  });

  it('SNMPv3 authPriv (SHA/AES) against snmpsimd with a v3 user; a wrong key is a failed poll', async () => {
    const sim = snmpsimTestbed();
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-snmpv3-'));
    fs.chmodSync(base, 0o755);
    const cache = path.join(base, 'cache');
    fs.mkdirSync(cache);
    execFileSync('chown', ['nobody:nogroup', cache]);
    const port = await freeUdpPort();
    const pidFile = path.join(cache, 'snmpsimd.pid');
    await run(
      'snmpsimd',
      [
        `--data-dir=${sim.dataDir}`,
        `--cache-dir=${cache}`,
        `--agent-udpv4-endpoint=127.0.0.1:${port}`,
        '--process-user=nobody',
        '--process-group=nogroup',
        '--v3-user=monitor',
        '--v3-auth-key=auth-secret-1',
        '--v3-auth-proto=SHA',
        '--v3-priv-key=priv-secret-1',
        '--v3-priv-proto=AES',
        '--logging-method=null',
        '--daemonize',
        `--pid-file=${pidFile}`,
      ],
      { env: { ...process.env, PATH: `${process.env.PATH}:/usr/bin:/usr/sbin` } },
    );
    try {
      const v3 = { user: 'monitor', authKey: 'auth-secret-1', privKey: 'priv-secret-1', context: 'sharp-mx3570n' };
      const device = (id: string, overrides = {}, timeoutMs = 1500): DeviceRecord =>
        addDevice(db, {
          id,
          driver: 'snmp',
          config: { address: '127.0.0.1', port, version: '3', timeoutMs, retries: 0, v3: { ...v3, ...overrides } },
        });
      const good = device('v3-sharp');
      // snmpsimd answers once it has indexed the data dir; give it a few tries
      let counters = await collectCountersPass(db, [good], passOpts());
      for (let i = 0; i < 20 && counters.failures.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 250));
        counters = await collectCountersPass(db, [good], passOpts());
      }
      expect(counters.failures).toEqual([]);
      expect(counters.readings[0]).toMatchObject({ serial: '6509415X00', total: 121104 });
      expect(good.config).toMatchObject({ v3: { level: 'authPriv', authProtocol: 'sha', privProtocol: 'aes' } });
      const faults = await watchFaultsPass(db, [good], passOpts());
      expect(faults.reports.map((r) => r.event.code)).toEqual(['toner-low']);
      // a wrong auth key gets snmpsim's usmStatsWrongDigests report: DEVICE_AUTH_FAILED, never a
      // timeout (a long timeout, so a loaded machine cannot turn it into DEVICE_UNREACHABLE)
      const bad = await watchFaultsPass(db, [device('v3-bad', { authKey: 'wrong-key-1' }, 10_000)], passOpts());
      expect(bad.failed).toBe(1);
      expect(bad.devices[0]?.error?.code).toBe('DEVICE_AUTH_FAILED');
      expect(bad.devices[0]?.error?.message).not.toMatch(/wrong-key-1|auth-secret-1/);
    } finally {
      const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0;
      if (pid > 0) process.kill(pid);
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
