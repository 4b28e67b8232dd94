// `rds doctor` against the real servers (issue 10 part 3): Postfix submission with STARTTLS
// and Dovecot IMAP with STARTTLS, both verified against the testbed CA, and snmpd. All ok
// exits 0; a wrong password, a config without the private CA and an unreachable device
// each give their one FAIL line with the fix and exit 1.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, rdsExpect, tempDir } from '../support/cli.js';
import { type Fleet, makeFleet } from '../support/fleet.js';
import { realMailBackend } from '../support/real-mail-backend.js';
import { snmpdTestbed } from '../support/testbed.js';

interface Doctor {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string; fix?: string }[];
}

let fleet: Fleet;

const doctor = async (config: string, expected: number, env: Record<string, string> = {}) => {
  const r = await rdsExpect(expected, ['--config', config, '--json', 'doctor'], { cwd: fleet.root, env });
  return JSON.parse(r.stdout) as Doctor;
};
const failed = (d: Doctor) => d.checks.filter((c) => !c.ok).map((c) => c.name);

/** A UDP port nothing listens on: bound, then released. */
async function closedUdpPort(): Promise<number> {
  const { createSocket } = await import('node:dgram');
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  ensureBuilt();
  const mail = realMailBackend();
  fleet = await makeFleet(tempDir('i10s-e2e-doctor-'), {
    hostAddress: mail.hostAddress,
    agentAddresses: [mail.agentAddress(19)],
    urlsFor: (a) => mail.urlsFor(a),
  });
  const snmpd = snmpdTestbed();
  const agent = fleet.agents[0] as Fleet['agents'][number];
  await fleet.run(agent, 0, 'devices', 'add', '--id', 'lobby', '--address', `${snmpd.host}:${snmpd.port}`, '--community', snmpd.community);
}, 120_000);

describe('rds doctor on Postfix + Dovecot + snmpd', () => {
  it('agent, all set up: every check ok, exit 0', async () => {
    const agent = fleet.agents[0] as Fleet['agents'][number];
    const d = await doctor(agent.config, 0);
    expect(failed(d)).toEqual([]);
    expect(d.ok).toBe(true);
    const byName = Object.fromEntries(d.checks.map((c) => [c.name, c.detail]));
    expect(byName.smtp).toMatch(/^127\.0\.0\.1:\d+: STARTTLS verified, login as agent19@\S+ accepted$/);
    expect(byName.imap).toMatch(/^127\.0\.0\.1:\d+: STARTTLS verified, login as agent19@\S+ accepted, INBOX holds \d+/);
    expect(byName['host key']).toMatch(/fingerprint [0-9A-F]{40} /);
    expect(byName['device lobby']).toMatch(/answers/);
    const text = await rdsExpect(0, ['--config', agent.config, 'doctor'], { cwd: fleet.root });
    expect(text.stdout.trimEnd().split('\n').at(-1)).toBe(`all ${d.checks.length} checks passed`);
    expect(text.stdout).not.toMatch(/^FAIL/m);
  });

  it('host, all set up: exit 0', async () => {
    expect(failed(await doctor(fleet.host.config, 0))).toEqual([]);
  });

  it('a wrong password: smtp and imap FAIL naming the login and the fix, exit 1', async () => {
    const d = await doctor(fleet.host.config, 1, { RDS_SMTP_PASSWORD: 'wrong', RDS_IMAP_PASSWORD: 'wrong' });
    expect(failed(d)).toEqual(['smtp', 'imap']);
    const smtp = d.checks.find((c) => c.name === 'smtp');
    const imap = d.checks.find((c) => c.name === 'imap');
    expect(smtp?.detail).toMatch(/refused the login of host@/);
    expect(smtp?.fix).toMatch(/RDS_SMTP_PASSWORD or smtpPasswordFile/);
    expect(imap?.detail).toMatch(/refused the login of host@/);
    expect(imap?.fix).toMatch(/RDS_IMAP_PASSWORD or imapPasswordFile/);
    expect(JSON.stringify(d)).not.toContain('wrong');
    const text = await rdsExpect(1, ['--config', fleet.host.config, 'doctor'], {
      cwd: fleet.root,
      env: { RDS_SMTP_PASSWORD: 'wrong', RDS_IMAP_PASSWORD: 'wrong' },
    });
    expect(text.stdout).toMatch(/^FAIL {2}smtp .*\(fix: /m);
    expect(text.stdout).toMatch(/^2 of \d+ checks failed$/m);
  });

  it('no private CA in the config: TLS verification fails for both, the fix names tlsCa, exit 1', async () => {
    const json = JSON.parse(fs.readFileSync(fleet.host.config, 'utf8'));
    delete json.tlsCa;
    const config = path.join(fleet.root, 'HOST', 'no-ca.json');
    fs.writeFileSync(config, JSON.stringify(json), { mode: 0o600 });
    const d = await doctor(config, 1);
    expect(failed(d)).toEqual(['smtp', 'imap']);
    for (const c of d.checks.filter((x) => !x.ok)) {
      expect(c.detail).toMatch(new RegExp(`^TLS with ${c.name.toUpperCase()} server`)); // each check names its own server
      expect(c.fix).toMatch(/tlsCa/);
    }
  });

  it('an unreachable device: its own FAIL line, the others ok, exit 1', async () => {
    const agent = fleet.agents[0] as Fleet['agents'][number];
    const port = await closedUdpPort();
    await fleet.run(agent, 0, 'devices', 'add', '--id', 'gone', '--address', `127.0.0.1:${port}`);
    try {
      const d = await doctor(agent.config, 1);
      expect(failed(d)).toEqual(['device gone']);
      const gone = d.checks.find((c) => c.name === 'device gone');
      expect(gone?.detail).toContain(`127.0.0.1:${port}`);
      expect(gone?.fix).toMatch(/community/);
    } finally {
      await fleet.run(agent, 0, 'devices', 'remove', 'gone');
    }
  });
});
