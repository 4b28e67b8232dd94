// `rds devices discover` through the real binary, on loopback only: a printer snmpd and a
// host snmpd of this test's own on 127.0.0.x addresses (one UDP port), the testbed's
// ippeveprinter on 127.0.0.1. Nothing outside 127.0.0.0/8 is ever scanned. The printer then
// "moves" (its snmpd restarted on another address): the same serial updates the device.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AgentNode, ensureBuilt, initAgent, initHost, rdsExpect, tempDir } from '../support/cli.js';
import { freeUdpPort, type HostSnmpd, startHostSnmpd } from '../support/testbed.js';

const SCRIPTS = fileURLToPath(new URL('../../scripts/testbed/', import.meta.url));

interface Found {
  address: string;
  via: string;
  kind: string;
  model?: string;
  serial?: string;
  status: string;
  deviceId?: string;
  previousAddress?: string;
}

let root: string;
let A: AgentNode;
let port: number;
let hostSnmpd: HostSnmpd;
const printerDirs: string[] = [];

/** The printer testbed snmpd (scripts/testbed/printer.snmprec, serial SN-0001) on one address. */
function startPrinter(address: string): void {
  const dir = path.join(root, `printer-${address}`);
  printerDirs.push(dir);
  execFileSync(path.join(SCRIPTS, 'start-snmp.sh'), [dir], {
    env: { ...process.env, SNMP_PORT: String(port), SNMP_ADDRESSES: address },
    stdio: 'pipe',
  });
}
const stopPrinter = (dir: string) => execFileSync(path.join(SCRIPTS, 'stop-snmp.sh'), [dir], { stdio: 'pipe' });

async function discover(target: string, ...extra: string[]): Promise<{ devices: Found[]; addresses: number; stderr: string }> {
  const args = [
    '--json',
    '--config',
    A.config,
    'devices',
    'discover',
    target,
    '--port',
    String(port),
    '--ipp-port',
    String(inject('ippPort')),
  ];
  const r = await rdsExpect(0, [...args, ...extra], { cwd: root });
  return { ...(JSON.parse(r.stdout) as { devices: Found[]; addresses: number }), stderr: r.stderr };
}
const byAddress = (devices: Found[], address: string, via = 'snmp') => devices.find((d) => d.address === address && d.via === via);

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-e2e-discover-');
  A = await initAgent(root, await initHost(root), { id: 'AGENTD', register: false });
  port = await freeUdpPort(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']);
  startPrinter('127.0.0.2');
  hostSnmpd = await startHostSnmpd(root, ['127.0.0.4'], port);
}, 120_000);
afterAll(() => {
  for (const dir of printerDirs) stopPrinter(dir);
  hostSnmpd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('devices discover on loopback', () => {
  it('finds the SNMP printer, the host and the IPP printer in 127.0.0.0/24, and says what it scans', async () => {
    const started = performance.now();
    const { devices, addresses, stderr } = await discover('127.0.0.0/24');
    console.log(`devices discover 127.0.0.0/24: ${Math.round(performance.now() - started)} ms for ${addresses} addresses`);
    expect(addresses).toBe(254);
    expect(stderr).toContain('scanning 127.0.0.1–127.0.0.254 (254 addresses)');
    expect(byAddress(devices, '127.0.0.2')).toMatchObject({ kind: 'printer', serial: 'SN-0001', status: 'new' });
    expect(byAddress(devices, '127.0.0.4')).toMatchObject({ kind: 'host', model: 'rds-test-host', status: 'new' });
    expect(byAddress(devices, '127.0.0.1', 'ipp')).toMatchObject({ kind: 'printer', status: 'new' });
    expect(devices.filter((d) => d.via === 'snmp').map((d) => d.address)).toEqual(['127.0.0.2', '127.0.0.4']);
  });

  it('--add adds them; a second scan shows them watched', async () => {
    const added = (await discover('127.0.0.2-4', '--add')).devices;
    expect(added.map((d) => [d.address, d.status, d.deviceId])).toEqual([
      ['127.0.0.2', 'added', `printer-127-0-0-2-${port}`],
      ['127.0.0.4', 'added', `host-127-0-0-4-${port}`],
    ]);
    const again = (await discover('127.0.0.2-127.0.0.4')).devices;
    expect(again.map((d) => d.status)).toEqual(['watched', 'watched']);
  });

  it('the printer at a new address (same serial) updates its device instead of adding a second', async () => {
    stopPrinter(printerDirs[0] as string);
    startPrinter('127.0.0.3');
    const moved = byAddress((await discover('127.0.0.0/29', '--add')).devices, '127.0.0.3');
    expect(moved).toMatchObject({ status: 'updated', deviceId: `printer-127-0-0-2-${port}`, previousAddress: '127.0.0.2' });
    const list = JSON.parse((await rdsExpect(0, ['--json', '--config', A.config, 'devices', 'list'], { cwd: root })).stdout) as {
      devices: Array<{ id: string; driver: string; config: { address?: string } }>;
    };
    // (the IPP printer on 127.0.0.1 is in the /29 too, and was added as an ipp device)
    expect(list.devices.filter((d) => d.driver === 'snmp' && d.id.startsWith('printer-')).map((d) => [d.id, d.config.address])).toEqual([
      [`printer-127-0-0-2-${port}`, '127.0.0.3'],
    ]);
  });
});
