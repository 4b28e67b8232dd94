// Issue 10 §1 against the real Postfix of the testbed: a host whose mail cannot go out
// never says "requested" with exit 0. A wrong SMTP password (535), TLS without the CA and
// an --smtp URL naming the IMAP port are config errors (exit 2, the request stays queued);
// `550 5.1.1` for an address Postfix does not know ends that mail as failed (exit 1) and
// no later command tries it again. Nothing here is delivered: no mailbox is touched.
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, type HostNode, initAgent, initHost, rds, rdsExpect, tempDir } from '../support/cli.js';
import { type MailTestbed, mailTestbed } from '../support/testbed.js';

let mail: MailTestbed;
let root: string;
let host: HostNode;
const user = (address: string) => encodeURIComponent(address);

function configure(changes: Record<string, unknown>): void {
  const config = JSON.parse(fs.readFileSync(host.config, 'utf8'));
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete config[k];
    else config[k] = v;
  }
  fs.writeFileSync(host.config, JSON.stringify(config, null, 2));
}

const requestVersions = (password: string) =>
  rds(['--config', host.config, '--json', 'request-versions'], { cwd: root, env: { RDS_SMTP_PASSWORD: password } });
const outbox = async () =>
  JSON.parse((await rdsExpect(0, ['--config', host.config, '--json', 'outbox', 'list'], { cwd: root })).stdout) as {
    items: { seq: number; state: string; attempts: number; lastError: string | null; endedReason: string | null }[];
  };
const submission = () => `smtp://${user(mail.hostAddress)}@${mail.host}:${mail.submissionPort}`;

beforeAll(async () => {
  mail = mailTestbed();
  ensureBuilt();
  root = tempDir('i10x-e2e-sending-');
  host = await initHost(root);
  const agent = await initAgent(root, host, { id: 'AGENT0000001', register: false });
  // an address of the testbed's domain that has no mailbox: Postfix answers 550 5.1.1
  await rdsExpect(
    0,
    [
      '--config',
      host.config,
      'agents',
      'add',
      '--id',
      'AGENT0000001',
      '--address',
      `nosuch-i10x@${mail.domain}`,
      '--key',
      agent.publicKeyFile,
    ],
    { cwd: root },
  );
  configure({ smtp: submission(), tlsCa: mail.caFile });
}, 120_000);

describe('request-versions through the real Postfix', () => {
  it('a wrong password (535): exit 2, the request stays queued, the line names the login', async () => {
    const r = await requestVersions('wrong-pw-i10x');
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const data = JSON.parse(r.stdout);
    expect(data.mail).toMatchObject({ sent: 0, queued: 1, stopped: { code: 'SMTP_AUTH', exitCode: 2 } });
    expect(data.mail.stopped.message).toMatch(/refused the login .*535/);
    expect(r.stdout + r.stderr).not.toContain('wrong-pw-i10x');
    expect((await outbox()).items.map((i) => i.state)).toEqual(['queued']);
  });

  it('TLS without the testbed CA: exit 2 naming TLS, still queued', async () => {
    configure({ tlsCa: undefined });
    try {
      const r = await requestVersions(mail.password);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(JSON.parse(r.stdout).mail.stopped).toMatchObject({ code: 'SMTP_TLS', exitCode: 2 });
    } finally {
      configure({ tlsCa: mail.caFile });
    }
    expect((await outbox()).items.every((i) => i.state === 'queued')).toBe(true);
  });

  it("an --smtp URL naming Dovecot's IMAP port: exit 2, not 'unreachable'", async () => {
    configure({ smtp: `smtp://${user(mail.hostAddress)}@${mail.host}:${mail.imapPort}` });
    try {
      const r = await requestVersions(mail.password);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(JSON.parse(r.stdout).mail.stopped).toMatchObject({ code: 'SMTP_NOT_SMTP', exitCode: 2 });
    } finally {
      configure({ smtp: submission() });
    }
  });

  it('550 5.1.1 for an unknown address: exit 1, the mails end as failed, later commands leave them', async () => {
    const r = await requestVersions(mail.password);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const data = JSON.parse(r.stdout);
    expect(data.mail.queued).toBe(0);
    expect(data.mail.failed.length).toBeGreaterThan(0);
    for (const f of data.mail.failed) expect(f).toMatchObject({ ended: true, error: expect.stringMatching(/5\.1\.1/) });
    const before = (await outbox()).items;
    expect(before.every((i) => i.state === 'failed')).toBe(true);
    const again = await rds(['--config', host.config, 'inbox'], { cwd: root, env: { RDS_SMTP_PASSWORD: mail.password } });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect((await outbox()).items.map((i) => [i.seq, i.state, i.attempts])).toEqual(before.map((i) => [i.seq, i.state, i.attempts]));
  });
});
