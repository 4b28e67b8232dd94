// Devices reported by mail, end to end with the real binary: a real SNMP agent (snmpd with
// a live data file, and snmpsim serving a real Sharp walk), real Postfix + Dovecot.
// A jam is reported and acked; with the ack lost the report is resent exactly once, then
// recorded as unacknowledged; counters are requested and come back.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempDir } from '../support/cli.js';
import { type Fleet, makeFleet } from '../support/fleet.js';
import type { MailBackend } from '../support/mail-backends.js';
import { realMailBackend } from '../support/real-mail-backend.js';
import { setSnmprecValues, snmpdTestbed, snmpsimTestbed } from '../support/testbed.js';

const ERROR_STATE = '1.3.6.1.2.1.25.3.5.1.2.1';
const ALL_EVENTS = '1.3.6.1.2.1.43.5.1.1.19.1';
const ALERT = (column: number, row: number) => `1.3.6.1.2.1.43.18.1.1.${column}.1.${row}`;
const JAM = {
  [ERROR_STATE]: '4x|0400',
  [ALL_EVENTS]: '65|7',
  [ALERT(2, 1)]: '2|3',
  [ALERT(4, 1)]: '2|8',
  [ALERT(5, 1)]: '2|2',
  [ALERT(6, 1)]: '2|9102',
  [ALERT(7, 1)]: '2|8',
  [ALERT(8, 1)]: '4|Paper jam',
  [ALERT(9, 1)]: '67|123000',
};
const CLEAR = Object.fromEntries(Object.keys(JAM).map((k) => [k, k === ERROR_STATE ? '4x|00' : k === ALL_EVENTS ? '65|8' : null]));

let mail: MailBackend;
let fleet: Fleet;
let original: string;
let dataFile: string;

function setAckWindow(configFile: string, window: string): void {
  const json = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  json.ackWindow = window;
  fs.writeFileSync(configFile, JSON.stringify(json, null, 2));
}

beforeAll(async () => {
  ensureBuilt();
  mail = realMailBackend();
  const root = tempDir('rds-e2e-devices-');
  fleet = await makeFleet(root, {
    hostAddress: mail.hostAddress,
    agentAddresses: [mail.agentAddress(11), mail.agentAddress(12)],
    urlsFor: (a) => mail.urlsFor(a),
  });
  const snmpd = snmpdTestbed();
  dataFile = snmpd.dataFile;
  original = fs.readFileSync(dataFile, 'utf8');
  const sim = snmpsimTestbed();
  const [a1, a2] = fleet.agents as [Fleet['agents'][number], Fleet['agents'][number]];
  await fleet.run(
    a1,
    0,
    'devices',
    'add',
    '--id',
    'lobby-printer',
    '--driver',
    'snmp',
    '--address',
    `${snmpd.host}:${snmpd.port}`,
    '--community',
    snmpd.community,
  );
  await fleet.run(
    a2,
    0,
    'devices',
    'add',
    '--id',
    'sharp-mfp',
    '--driver',
    'snmp',
    '--address',
    `${sim.host}:${sim.port}`,
    '--community',
    'sharp-mx3570n',
  );
  setAckWindow(a1.config, '2s');
});
afterAll(() => {
  if (original) fs.writeFileSync(dataFile, original);
});

async function hostReports(): Promise<number> {
  return (await mail.mailboxRaw(mail.hostAddress, 'INBOX')).filter((r) => /^x-rds-type: fault-report/im.test(r.toString('latin1'))).length;
}

describe('devices by mail (real SNMP agents, real Postfix + Dovecot)', () => {
  it('a jam is reported at once and acknowledged by the host', async () => {
    const a1 = fleet.agents[0] as Fleet['agents'][number];
    expect((await fleet.run(a1, 0, 'watch-faults')).stdout).toContain('nothing new');
    setSnmprecValues(dataFile, JAM);
    expect((await fleet.run(a1, 0, 'watch-faults')).stdout).toContain('raised jam (tray 2) on lobby-printer');
    await mail.waitForMail(mail.hostAddress);
    expect((await fleet.run(fleet.host, 0, 'inbox')).stdout).toContain('1 fault-report');
    const faults = JSON.parse((await fleet.run(fleet.host, 0, '--json', 'faults', 'list', '--open')).stdout).faults;
    expect(faults).toMatchObject([
      { agentId: a1.id, deviceId: 'lobby-printer', code: 'jam', subunit: 'tray 2', severity: 'critical', acked: true },
    ]);
    await mail.waitForMail(a1.address);
    expect((await fleet.run(a1, 0, 'poll-mail')).stdout).toMatch(/fault-ack .*: acked 1/);
    // acked: no resend however long we wait
    await new Promise((r) => setTimeout(r, 2500));
    expect((await fleet.run(a1, 0, 'watch-faults')).stdout).not.toContain('resent');
  });

  it('cleared after two clean polls; with the ack lost, exactly one resend, then unacknowledged', async () => {
    const a1 = fleet.agents[0] as Fleet['agents'][number];
    setSnmprecValues(dataFile, CLEAR);
    expect((await fleet.run(a1, 0, 'watch-faults')).stdout).not.toContain('cleared');
    expect((await fleet.run(a1, 0, 'watch-faults')).stdout).toContain('cleared jam (tray 2) on lobby-printer');
    await mail.waitForMail(mail.hostAddress);
    expect(await hostReports()).toBe(1);
    // the host never answers this one: its ack is "lost"
    await new Promise((r) => setTimeout(r, 2500));
    expect((await fleet.run(a1, 0, 'watch-faults')).stdout).toContain('resent 1 unacknowledged report(s)');
    await mail.waitForMail(mail.hostAddress, 2);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await fleet.run(a1, 0, 'watch-faults')).stdout).toContain('1 report(s) stayed unacknowledged after the resend');
    await new Promise((r) => setTimeout(r, 2500));
    expect((await fleet.run(a1, 0, 'watch-faults')).stdout).not.toMatch(/resent|unacknowledged/);
    expect(await hostReports()).toBe(2); // the original and exactly one resend
    // the host stores the event once, however often it was reported, and acks each
    expect((await fleet.run(fleet.host, 0, 'inbox')).stdout).toContain('2 fault-report');
    const faults = JSON.parse((await fleet.run(fleet.host, 0, '--json', 'faults', 'list')).stdout).faults;
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatchObject({ code: 'jam', acked: true });
    expect(faults[0].clearedAt).not.toBeNull();
  });

  it('device unreachable after three failed polls', async () => {
    const a1 = fleet.agents[0] as Fleet['agents'][number];
    const json = JSON.parse(fs.readFileSync(a1.config, 'utf8'));
    const db = path.join(json.stateDir, 'state.db');
    expect(fs.existsSync(db)).toBe(true);
    await fleet.run(
      a1,
      0,
      'devices',
      'add',
      '--id',
      'gone-printer',
      '--driver',
      'snmp',
      '--address',
      '127.0.0.1:9',
      '--timeout',
      '300',
      '--retries',
      '0',
    );
    const outs: string[] = [];
    // README's exit-code table: a device that did not answer is 3 (the other devices were polled)
    for (let i = 0; i < 3; i++) outs.push((await fleet.run(a1, 3, 'watch-faults')).stdout);
    expect(outs[0]).not.toContain('device-unreachable');
    expect(outs[2]).toContain('raised device-unreachable on gone-printer');
  });

  it('counters are read, requested by the host and come back', async () => {
    const a2 = fleet.agents[1] as Fleet['agents'][number];
    expect((await fleet.run(a2, 0, 'collect-counters')).stdout).toMatch(/sharp-mfp: total \d+/);
    await fleet.run(fleet.host, 0, 'request-counters', '--agents', a2.id);
    await mail.waitForMail(a2.address);
    expect((await fleet.run(a2, 0, 'poll-mail')).stdout).toMatch(/counter-request .*: ok/);
    await mail.waitForMail(mail.hostAddress);
    await fleet.run(fleet.host, 0, 'inbox');
    const csv = (await fleet.run(fleet.host, 0, 'counters', 'export', '--csv')).stdout.trim().split('\n');
    expect(csv[0]).toMatch(/^agent,device,serial,time,total,mono,colour/);
    expect(csv.filter((l) => l.startsWith(`${a2.id},sharp-mfp,`))).toHaveLength(1);
    // asked again with nothing new: the agent says so, and nothing is stored twice
    await fleet.run(fleet.host, 0, 'request-counters', '--agents', a2.id);
    await mail.waitForMail(a2.address);
    expect((await fleet.run(a2, 0, 'poll-mail')).stdout).toMatch(/counter-request .*: nothing-new/);
  });
});
