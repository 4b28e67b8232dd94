// IPP printers (RFC 8011, IPP Everywhere) against a REAL ippeveprinter on localhost
// (started by test/support/servers.ts): Get-Printer-Attributes over HTTP, printer-state-reasons
// mapped to the canonical fault codes, printer-supply to supplies. The state change is
// injected through ippeveprinter's own supplies page: toner at 0 % makes it report
// toner-empty-report. Plus the real binary: `rds devices add --driver ipp` and one pass.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addDevice, collectCountersPass, createDriverRegistry, listDevices, watchFaultsPass } from '../../src/core/devices/index.js';
import { type Db, openDb } from '../../src/core/store/db.js';
import { ensureBuilt, initAgent, initHost, rdsExpect, tempDir } from '../support/cli.js';

const port = () => inject('ippPort');
const printerUrl = () => `ipp://localhost:${port()}/ipp/print`;

/** ippeveprinter's web form: supply0 is the waste tank, supply1 the black toner (percent). */
async function setSupplies(waste: number, toner: number): Promise<void> {
  const r = await fetch(`http://localhost:${port()}/supplies?supply0=${waste}&supply1=${toner}`);
  expect(r.status).toBe(200);
  await r.arrayBuffer();
}

describe('IPP devices against ippeveprinter', () => {
  let dir: string;
  let db: Db;
  const drivers = createDriverRegistry();
  const passOpts = () => ({ drivers, concurrency: 4 });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-ipp-e2e-'));
    db = openDb(path.join(dir, 'state'));
    await setSupplies(25, 75);
  });
  afterAll(async () => {
    db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    await setSupplies(25, 75);
  });

  it('supplies, model and identity from printer attributes', async () => {
    addDevice(db, { id: 'lp', driver: 'ipp', config: { url: printerUrl() } });
    const counters = await collectCountersPass(db, listDevices(db), passOpts());
    expect(counters.failures).toEqual([]);
    const reading = counters.readings[0];
    expect(reading).toMatchObject({ deviceId: 'lp', model: 'SpikeCo LaserJet Sim' });
    expect(reading?.serial).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(reading?.supplies.map((s) => [s.type, s.class, s.percent])).toEqual([
      ['wasteToner', 'receptacle', 75],
      ['toner', 'consumed', 75],
    ]);
  });

  it('toner set to 0 %: toner-empty raised from printer-state-reasons; back to 75 %: cleared', async () => {
    const pass = async () => {
      const r = await watchFaultsPass(db, listDevices(db), passOpts());
      expect(r.failed).toBe(0);
      return r.reports.map((x) => `${x.kind} ${x.event.code} ${x.event.severity}`);
    };
    expect(await pass()).toEqual([]);
    await setSupplies(25, 0);
    expect(await pass()).toEqual(['raised toner-empty info']);
    expect(await pass()).toEqual([]); // still empty: nothing new
    await setSupplies(25, 75);
    const cleared: string[] = [];
    for (let i = 0; i < 3 && cleared.length === 0; i++) cleared.push(...(await pass()));
    expect(cleared).toEqual(['cleared toner-empty info']);
  });

  it('a printer that does not answer is DEVICE_UNREACHABLE, the pass goes on', async () => {
    addDevice(db, { id: 'gone', driver: 'ipp', config: { url: 'ipp://127.0.0.1:9/ipp/print', timeoutMs: 500 } });
    const r = await watchFaultsPass(db, listDevices(db), passOpts());
    expect(r.devices.find((d) => d.deviceId === 'gone')?.error?.code).toBe('DEVICE_UNREACHABLE');
    expect(r.devices.find((d) => d.deviceId === 'lp')?.error).toBeUndefined();
  });

  it('the real binary: devices add --driver ipp, devices list, collect-counters', async () => {
    ensureBuilt();
    const root = tempDir('rds-ipp-cli-');
    const host = await initHost(root);
    const agent = await initAgent(root, host, { id: 'AGENTIPP' });
    await rdsExpect(0, ['--config', agent.config, 'devices', 'add', '--id', 'lp-3', '--driver', 'ipp', '--address', printerUrl()], {
      cwd: root,
    });
    const list = await rdsExpect(0, ['--config', agent.config, 'devices', 'list'], { cwd: root });
    expect(list.stdout).toMatch(new RegExp(`lp-3 +ipp +ipp://localhost:${port()}/ipp/print`));
    const bad = await rdsExpect(
      2,
      ['--config', agent.config, 'devices', 'add', '--id', 'lp-4', '--driver', 'ipp', '--address', 'http://x/ipp'],
      { cwd: root },
    );
    expect(bad.stderr.trim()).toBe('rds: IPP address must start with ipp:// or ipps://, e.g. --address ipp://192.0.2.20:631/ipp/print');
    const counted = await rdsExpect(0, ['--json', '--config', agent.config, 'collect-counters'], { cwd: root });
    expect(JSON.stringify(JSON.parse(counted.stdout))).toContain('SpikeCo LaserJet Sim');
    fs.rmSync(root, { recursive: true, force: true });
  });
});
