// The heart of the product over REAL Postfix + Dovecot (issue: mail flow): a host and six
// agents; one agent's install script fails, one never polls → verify names exactly those
// two. Then the hostile deliveries: the same update mail twice, agent A's update in agent
// B's mailbox, a forged host mail signed by another key, an expired command.
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/core/crypto/keys.js';
import { composeMail } from '../../src/core/message/mail.js';
import { buildPayload, signPayload } from '../../src/core/message/payload.js';
import { ensureBuilt, tempDir } from '../support/cli.js';
import { type Fleet, installRuns, makeFleet, writeInstallScript } from '../support/fleet.js';
import { type MailTestbed, mailTestbed } from '../support/testbed.js';

let tb: MailTestbed;
let fleet: Fleet;
let root: string;
let rolloutId: string;

const enc = (address: string) => encodeURIComponent(address);

function urlsFor(address: string) {
  return {
    smtp: `smtp://${enc(address)}:${tb.password}@127.0.0.1:${tb.submissionPort}`,
    imap: `imap://${enc(address)}:${tb.password}@127.0.0.1:${tb.imapPort}`,
    tlsCa: tb.caFile,
  };
}

async function imap<T>(address: string, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = new ImapFlow({ host: '127.0.0.1', port: tb.imapPort, secure: false, tls: tb.tls, auth: { user: address, pass: tb.password }, logger: false });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.logout();
  }
}

async function mailboxRaw(address: string, folder: string): Promise<Buffer[]> {
  return imap(address, async (client) => {
    const exists = (await client.list()).some((m) => m.path === folder);
    if (!exists) return [];
    const lock = await client.getMailboxLock(folder);
    try {
      const out: Buffer[] = [];
      for await (const m of client.fetch('1:*', { source: true })) if (m.source) out.push(m.source);
      return out;
    } finally {
      lock.release();
    }
  });
}

async function deliverRaw(to: string, raw: Buffer, from = tb.hostAddress): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: tb.smtpPort, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ envelope: { from, to: [to] }, raw });
  } finally {
    transport.close();
  }
}

async function waitForMail(address: string, count = 1, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const n = await imap(address, async (c) => (await c.status('INBOX', { messages: true })).messages ?? 0);
    if (n >= count) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail for ${address} within ${timeoutMs} ms`);
}

beforeAll(async () => {
  ensureBuilt();
  tb = mailTestbed();
  root = tempDir('rds-e2e-mail-');
  fleet = await makeFleet(root, {
    hostAddress: tb.hostAddress,
    agentAddresses: [1, 2, 3, 4, 5, 6].map((n) => tb.agentAddress(n)),
    urlsFor,
  });
});

describe('update flow over real Postfix + Dovecot', () => {
  it('pushes to six agents; verify names exactly the failed install and the silent agent', async () => {
    const [a1, a2, a3, a4, a5, a6] = fleet.agents as [Fleet['agents'][0], ...Fleet['agents']];
    fs.writeFileSync(path.join(a3!.dir, 'install', 'fail-install'), '');
    const script = writeInstallScript(root);
    fs.writeFileSync(path.join(root, 'main.cgi'), 'main v1.0.01\n');
    await fleet.run(fleet.host, 0, 'pack-update', '--software-version', '1.0.02-0', '--script', script, '--module', `main.cgi=1.0.01:${path.join(root, 'main.cgi')}`, '-o', path.join(root, 'up.rdsu'));
    const push = await fleet.run(fleet.host, 0, '--json', 'push-all', path.join(root, 'up.rdsu'));
    const pushed = JSON.parse(push.stdout);
    rolloutId = pushed.rolloutId;
    expect(pushed.agents.map((a: { status: string }) => a.status)).toEqual(Array(6).fill('sent'));

    for (const agent of [a1, a2, a4, a6]) {
      await waitForMail(agent!.address);
      const r = await fleet.run(agent!, 0, 'poll-mail');
      expect(r.stdout).toMatch(/update .*: installed/);
    }
    await waitForMail(a3!.address);
    const failed = await fleet.run(a3!, 0, 'poll-mail');
    expect(failed.stdout).toMatch(/update .*: rolled-back/);
    expect(fs.readlinkSync(path.join(a3!.dir, 'install', 'current'))).toBe('releases/1.0.00-1');

    await waitForMail(tb.hostAddress, 5);
    const verify = await fleet.run(fleet.host, 1, '--json', 'verify', '--wait', '5s');
    const table = JSON.parse(verify.stdout);
    expect(table.target).toBe('1.0.02-0');
    const failedRows = table.agents.filter((a: { failed: boolean }) => a.failed);
    expect(failedRows.map((a: { agentId: string; reason: string }) => [a.agentId, a.reason])).toEqual([
      [a3!.id, 'rolled-back'],
      [a5!.id, 'no-reply'],
    ]);
    expect(table.failed).toBe(2);
    const human = await fleet.run(fleet.host, 1, 'verify', '--no-inbox');
    expect(human.stdout).toContain('update to: 1.0.02-0');
    expect(human.stdout.split('\n').filter((l) => l.includes('✗'))).toHaveLength(2);
    // the host took every reply in and moved it out of its INBOX
    expect(await mailboxRaw(tb.hostAddress, 'INBOX')).toHaveLength(0);
  });

  it('the same update mail delivered twice is installed once', async () => {
    const a1 = fleet.agents[0]!;
    const processed = await mailboxRaw(a1.address, 'rds-processed');
    const update = processed.find((raw) => /^x-rds-type: update/im.test(raw.toString('latin1')));
    expect(update).toBeDefined();
    await deliverRaw(a1.address, update!);
    await waitForMail(a1.address);
    const r = await fleet.run(a1, 4, 'poll-mail');
    expect(r.stdout).toContain('REPLAYED');
    expect(installRuns(a1)).toBe(1);
    expect(await mailboxRaw(a1.address, 'rds-quarantine')).toHaveLength(1);
  });

  it("agent A's update mail in agent B's mailbox: B installs nothing and quarantines it", async () => {
    const a2 = fleet.agents[1]!;
    const a5 = fleet.agents[4]!;
    const [forA5] = await mailboxRaw(a5.address, 'INBOX');
    expect(forA5).toBeDefined();
    const before = installRuns(a2);
    await deliverRaw(a2.address, forA5!);
    await waitForMail(a2.address);
    const r = await fleet.run(a2, 4, 'poll-mail');
    expect(r.stdout).toContain('NOT_FOR_ME');
    expect(installRuns(a2)).toBe(before);
    expect((await mailboxRaw(a2.address, 'rds-quarantine')).length).toBe(1);
  });

  it("a mail with the host's From address signed by another key is quarantined", async () => {
    const a4 = fleet.agents[3]!;
    const rogue = await generateKeyPair('HOST', tb.hostAddress);
    const key = await openpgp.readPrivateKey({ armoredKey: rogue.privateArmored });
    const payload = buildPayload({ type: 'version-request', from: 'HOST', to: [a4.id], body: {}, ttlMs: 3600_000, clock: { now: () => new Date() } });
    const { raw } = await composeMail({ from: tb.hostAddress, to: a4.address, subject: 'version request', text: 'x', type: payload.type, payloadId: payload.id, armoredPayload: await signPayload(payload, key) });
    await deliverRaw(a4.address, raw);
    await waitForMail(a4.address);
    const r = await fleet.run(a4, 4, 'poll-mail');
    expect(r.stdout).toContain('UNKNOWN_KEY');
    expect(await mailboxRaw(a4.address, 'rds-quarantine')).toHaveLength(1);
  });

  it('an expired command signed by the real host key is quarantined and not answered', async () => {
    const a6 = fleet.agents[5]!;
    const hostKey = await openpgp.readPrivateKey({ armoredKey: fs.readFileSync(path.join(fleet.host.dir, 'keys', 'private.asc'), 'utf8') });
    const old = new Date(Date.now() - 3 * 86400_000);
    const payload = buildPayload({ type: 'version-request', from: 'HOST', to: [a6.id], body: {}, ttlMs: 86400_000, clock: { now: () => old } });
    const { raw } = await composeMail({ from: tb.hostAddress, to: a6.address, subject: 'old', text: 'x', type: payload.type, payloadId: payload.id, armoredPayload: await signPayload(payload, hostKey) });
    await deliverRaw(a6.address, raw);
    await waitForMail(a6.address);
    const r = await fleet.run(a6, 4, 'poll-mail');
    expect(r.stdout).toContain('EXPIRED');
    expect(await mailboxRaw(a6.address, 'rds-quarantine')).toHaveLength(1);
    expect(rolloutId).toMatch(/^R\d+/);
  });
});
