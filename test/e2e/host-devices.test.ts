// A PC/server (device kind `host`) against a REAL snmpd serving this machine's own
// HOST-RESOURCES-MIB (scripts/testbed/start-snmp-host.sh, started here on a free port).
// hrSystem comes from a data file, so the test restarts the "host" by making its uptime go
// back; everything else (storage, processors, processes, packages) is the machine's own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addDevice,
  collectCountersPass,
  createDriverRegistry,
  type DeviceRecord,
  HRH,
  listDevices,
  listFaultEvents,
  watchFaultsPass,
} from '../../src/core/devices/index.js';
import { decodeCounterReport, encodeCounterReport } from '../../src/core/protocol/counter-report.js';
import { type Db, openDb } from '../../src/core/store/db.js';
import { type HostSnmpd, setSnmprecValues, startHostSnmpd } from '../support/testbed.js';

describe('a host read through HOST-RESOURCES-MIB (real snmpd)', () => {
  let dir: string;
  let db: Db;
  let snmpd: HostSnmpd;
  let pc: DeviceRecord;
  const drivers = createDriverRegistry({ snmp: { timeoutMs: 2000, retries: 1 } });
  const opts = () => ({ drivers, concurrency: 4 });
  const setUptime = (hundredths: number) => setSnmprecValues(snmpd.systemFile, { [HRH.systemUptime]: `67|${hundredths}` });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-host-e2e-'));
    db = openDb(path.join(dir, 'state'));
    snmpd = await startHostSnmpd(dir);
    addDevice(db, {
      id: 'pc1',
      driver: 'snmp',
      config: {
        address: '127.0.0.1',
        port: snmpd.port,
        version: '2c',
        community: 'public',
        kind: 'host',
        thresholds: { diskPercent: 1, memoryPercent: 1 },
      },
    });
    pc = listDevices(db).find((d) => d.id === 'pc1') as DeviceRecord;
    // snmpd starts the hrSystem helper (a Node process) on the first request: wait until it answers
    for (let i = 0; i < 40; i++)
      if (
        await drivers.snmp?.pollFaults(pc).then(
          () => true,
          () => false,
        )
      )
        break;
  });
  afterAll(() => {
    snmpd?.stop();
    db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads memory, disks and software, and raises the threshold faults', async () => {
    setUptime(50_000_000);
    const counters = await collectCountersPass(db, [pc], opts());
    expect(counters.failures).toEqual([]);
    const host = counters.readings[0]?.host;
    expect(host?.uptimeSeconds).toBe(500_000);
    expect(host?.memorySizeBytes).toBeGreaterThan(0);
    expect(host?.disks.map((d) => d.description)).toContain('/');
    expect(host?.installedSoftware).toBeGreaterThan(0);
    expect(host?.runningProcesses).toBeGreaterThan(0);
    expect(host?.topApplications.length).toBeGreaterThan(0);
    expect(host?.restarts).toBe(0);

    const pass = await watchFaultsPass(db, [pc], opts());
    expect(pass.failed).toBe(0);
    const raised = pass.reports.map((r) => `${r.event.code}:${r.event.subunit}`);
    expect(raised).toContain('disk-nearly-full:/');
    expect(raised).toContain('memory-exhausted:');
    expect(raised).not.toContain('restarted:');
  });

  it('a restart (uptime back) is a restarted fault and one more restart in the counters', async () => {
    setUptime(12_000);
    const pass = await watchFaultsPass(db, [pc], opts());
    expect(pass.reports.filter((r) => r.kind === 'raised').map((r) => r.event.code)).toEqual(['restarted']);
    expect(listFaultEvents(db, { open: true }).find((e) => e.code === 'restarted')?.source).toBe(
      'hrSystemUptime went back from 500000 s to 120 s',
    );

    const counters = await collectCountersPass(db, [pc], opts());
    const reading = counters.readings[0];
    expect(reading?.host?.restarts).toBe(1);
    expect(reading?.flags).toContain('restarted');

    // the host accepts the real reading as it comes by mail
    const body = decodeCounterReport(
      JSON.parse(JSON.stringify(encodeCounterReport({ status: 'ok', readings: counters.readings, more: false }))),
      new Date(),
    );
    expect(body.readings[0]?.host?.restarts).toBe(1);
  });

  it('the uptime growing again is no new restart', async () => {
    setUptime(42_000);
    const pass = await watchFaultsPass(db, [pc], opts());
    expect(pass.reports.filter((r) => r.event.code === 'restarted' && r.kind === 'raised')).toEqual([]);
    expect((await collectCountersPass(db, [pc], opts())).readings[0]?.host?.restarts).toBe(1);
  });
});
