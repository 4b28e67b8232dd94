// A PC/server watched by an agent and reported by mail, end to end with the real binary:
// a real snmpd serving this machine's HOST-RESOURCES-MIB (its hrSystem from a data file, so
// the test restarts the "host"), real Postfix + Dovecot. The host sees memory-exhausted and
// restarted in `rds faults list`, and the host's restarts in `rds counters export --csv`.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempDir } from '../support/cli.js';
import { type Fleet, makeFleet } from '../support/fleet.js';
import type { MailBackend } from '../support/mail-backends.js';
import { realMailBackend } from '../support/real-mail-backend.js';
import { type HostSnmpd, setSnmprecValues, startHostSnmpd } from '../support/testbed.js';

const UPTIME = '1.3.6.1.2.1.25.1.1.0';
let mail: MailBackend;
let fleet: Fleet;
let snmpd: HostSnmpd;
let root: string;

beforeAll(async () => {
  ensureBuilt();
  mail = realMailBackend();
  root = tempDir('rds-e2e-hosts-');
  fleet = await makeFleet(root, {
    hostAddress: mail.hostAddress,
    agentAddresses: [mail.agentAddress(14)],
    urlsFor: (a) => mail.urlsFor(a),
  });
  snmpd = await startHostSnmpd(root);
  setSnmprecValues(snmpd.systemFile, { [UPTIME]: '67|50000000' });
  const agent = fleet.agents[0] as Fleet['agents'][number];
  await fleet.run(
    agent,
    0,
    'devices',
    'add',
    '--id',
    'pc1',
    '--kind',
    'host',
    '--address',
    `127.0.0.1:${snmpd.port}`,
    '--memory-threshold',
    '1',
  );
}, 180_000);
afterAll(() => {
  snmpd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('a host by mail (real snmpd, real Postfix + Dovecot)', () => {
  it('memory-exhausted and then restarted reach the host, and the restart is counted', async () => {
    const agent = fleet.agents[0] as Fleet['agents'][number];
    expect((await fleet.run(agent, 0, 'collect-counters')).stdout).toMatch(/^pc1: cpu .*%, memory [\d.]+%, restarts 0 \[first-reading\]$/m);
    expect((await fleet.run(agent, 0, 'watch-faults')).stdout).toContain('raised memory-exhausted on pc1');
    await mail.waitForMail(mail.hostAddress);

    setSnmprecValues(snmpd.systemFile, { [UPTIME]: '67|9000' });
    expect((await fleet.run(agent, 0, 'watch-faults')).stdout).toContain('raised restarted on pc1');
    await mail.waitForMail(mail.hostAddress, 2);
    await fleet.run(fleet.host, 0, 'inbox');
    const faults = JSON.parse((await fleet.run(fleet.host, 0, '--json', 'faults', 'list', '--open')).stdout).faults as Array<{
      deviceId: string;
      code: string;
      severity: string;
    }>;
    expect(faults.map((f) => [f.deviceId, f.code, f.severity])).toEqual([
      ['pc1', 'memory-exhausted', 'critical'],
      ['pc1', 'restarted', 'info'],
    ]);

    expect((await fleet.run(agent, 0, 'collect-counters')).stdout).toMatch(/^pc1: .*restarts 1 \[restarted\]$/m);
    await fleet.run(fleet.host, 0, 'request-counters', '--agents', agent.id);
    await mail.waitForMail(agent.address);
    await fleet.run(agent, 0, 'poll-mail');
    await mail.waitForMail(mail.hostAddress);
    await fleet.run(fleet.host, 0, 'inbox');
    const csv = (await fleet.run(fleet.host, 0, 'counters', 'export', '--csv')).stdout.trim().split('\n');
    const header = (csv[0] as string).split(',');
    const restarts = header.indexOf('host:restarts');
    expect(restarts).toBeGreaterThan(0);
    expect(csv.slice(1).map((line) => line.split(',')[restarts])).toEqual(['0', '1']);
  });
});
