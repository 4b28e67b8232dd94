// Issue 13 over REAL Postfix (its default 10,240,000-byte limit, learnt from its EHLO SIZE)
// + Dovecot with the real binary: a 25 MB module to three agents goes out as update-part
// mails and installs. One agent loses a part mail before it polls: it asks, the host
// re-sends only that part, it installs. One gets its parts in reverse order, one of them
// tampered: the tampered part is quarantined and asked for again, then it installs. `verify`
// is exact at the end. One package, one host, three agents: kept small on purpose.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, rdsExpect, tempDir } from '../support/cli.js';
import { type Fleet, type FleetNode, makeFleet, writeInstallScript } from '../support/fleet.js';
import type { MailBackend } from '../support/mail-backends.js';
import { realMailBackend } from '../support/real-mail-backend.js';
import { withImapSession } from '../support/testbed.js';

const MAILBOXES = [17, 18, 19];
const POSTFIX_LIMIT = 10_240_000;
let mail: MailBackend;
let fleet: Fleet;
let root: string;
let pkg: string;
let parts = 0;
/** how far ahead of the real clock the agents run (ms): a missing part is asked for after 1 minute */
const AHEAD = 2 * 60_000;

const agent = (n: number) => fleet.agents[n - 1] as FleetNode;
const run = (node: FleetNode, expected: number, args: string[], ahead = 0) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root, env: ahead ? { RDS_TEST_CLOCK_OFFSET_MS: String(ahead) } : {} });
const host = (expected: number, ...args: string[]) => run(fleet.host, expected, args);
const isPart = (raw: Buffer) => /^x-rds-type: update-part\r?$/im.test(raw.toString('latin1'));
const partNo = (raw: Buffer) => Number(/^subject: .*, part (\d+) of \d+\r?$/im.exec(raw.toString('latin1'))?.[1]);
const version = async (n: number) => /^Software Version\t(\S+)$/m.exec((await run(agent(n), 0, ['versions'])).stdout)?.[1];

async function resetMailbox(address: string): Promise<void> {
  await withImapSession(address, async (client) => {
    for (const box of await client.list()) if (box.path !== 'INBOX') await client.mailboxDelete(box.path);
    const lock = await client.getMailboxLock('INBOX');
    try {
      if (client.mailbox && client.mailbox.exists > 0) await client.messageDelete('1:*');
    } finally {
      lock.release();
    }
  });
}

/** Wait (bounded) until ADDRESS's INBOX holds `count` mails that `match`; their raw text. */
async function waitFor(address: string, count: number, match: (raw: Buffer) => boolean): Promise<Buffer[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = (await mail.mailboxRaw(address, 'INBOX')).filter(match);
    if (got.length >= count) return got;
    if (Date.now() > deadline) throw new Error(`${address}: ${got.length} of ${count} mails after 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Delete the mails of ADDRESS's INBOX whose subject holds TEXT. */
async function deleteMails(address: string, text: string): Promise<void> {
  await withImapSession(address, async (client) => {
    const lock = await client.getMailboxLock('INBOX');
    try {
      await client.messageDelete({ subject: text });
    } finally {
      lock.release();
    }
  });
}

const fromAgent = (n: number) => (raw: Buffer) =>
  raw
    .toString('latin1')
    .split(/\r?\n/)
    .some((l) => /^from:/i.test(l) && l.includes(agent(n).address));

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-e2e-parts-');
  mail = realMailBackend();
  const addresses = MAILBOXES.map((n) => mail.agentAddress(n));
  for (const address of [mail.hostAddress, ...addresses]) await resetMailbox(address);
  fleet = await makeFleet(root, { hostAddress: mail.hostAddress, agentAddresses: addresses, urlsFor: mail.urlsFor });
  const module = path.join(root, 'main.bin');
  fs.writeFileSync(module, randomBytes(25 * 2 ** 20)); // incompressible
  pkg = path.join(root, 'update.rdsu');
  const script = writeInstallScript(root);
  await host(0, 'pack-update', '--software-version', '1.0.02-0', '--script', script, '--module', `main.bin=1.0.02:${module}`, '-o', pkg);
}, 300_000);

afterAll(async () => {
  if (mail) for (const address of [mail.hostAddress, ...MAILBOXES.map((n) => mail.agentAddress(n))]) await resetMailbox(address);
});

describe('a 25 MB module in parts over Postfix + Dovecot', () => {
  it("the SMTP sender learns Postfix's SIZE from its EHLO reply (after STARTTLS)", async () => {
    const { createSmtpSender } = await import('../../src/core/mail/smtp.js');
    const { parseMailUrl } = await import('../../src/core/mail/url.js');
    const urls = mail.urlsFor(mail.hostAddress);
    const sender = await createSmtpSender(parseMailUrl(urls.smtp) as never, { ca: fs.readFileSync(urls.tlsCa as string) });
    try {
      expect(await sender.sizeLimit?.()).toBe(POSTFIX_LIMIT);
    } finally {
      await sender.close();
    }
  });

  it('push-all sends N part mails per agent, each within Postfix limit', async () => {
    const r = await host(0, '--json', 'push-all', pkg);
    expect(JSON.parse(r.stdout).agents.map((a: { status: string }) => a.status)).toEqual(['sent', 'sent', 'sent']);
    const first = await waitFor(agent(1).address, 3, isPart);
    parts = Number(/^subject: .*, part \d+ of (\d+)\r?$/im.exec(first[0]?.toString('latin1') ?? '')?.[1]);
    expect(parts).toBeGreaterThanOrEqual(Math.ceil(fs.statSync(pkg).size / POSTFIX_LIMIT));
    for (const n of [1, 2, 3]) {
      const got = await waitFor(agent(n).address, parts, isPart);
      expect(got.map(partNo).sort((a, b) => a - b)).toEqual(Array.from({ length: parts }, (_, i) => i + 1));
      for (const raw of got) expect(raw.length).toBeLessThanOrEqual(POSTFIX_LIMIT + 2000); // + Postfix's Received/Return-Path lines
    }
  }, 300_000);

  it('the first agent reassembles and installs', async () => {
    expect((await run(agent(1), 0, ['poll-mail'])).stdout).toMatch(/^update-part \S+: installed$/m);
    expect(await version(1)).toBe('1.0.02-0');
  }, 300_000);

  it('a part mail deleted before the agent polls: it asks, the host re-sends only that part, it installs', async () => {
    await deleteMails(agent(2).address, 'part 2 of');
    await run(agent(2), 0, ['poll-mail']);
    expect(await version(2)).toBe('1.0.00-1');
    const asked = await run(agent(2), 0, ['poll-mail', '--request-missing-after', '1m'], AHEAD);
    expect(asked.stdout).toMatch(/^parts-request for package \S+: 1 missing \(2\)$/m);
    await waitFor(mail.hostAddress, 1, fromAgent(2));
    await host(0, 'inbox');
    const resent = await waitFor(agent(2).address, 1, isPart);
    expect(resent.map(partNo)).toEqual([2]);
    expect((await run(agent(2), 0, ['poll-mail'], AHEAD)).stdout).toMatch(/^update-part \S+: installed$/m);
    expect(await version(2)).toBe('1.0.02-0');
  }, 300_000);

  it('parts in reverse order, one tampered: quarantined, asked for again, re-sent, installed', async () => {
    const address = agent(3).address;
    const got = (await mail.mailboxRaw(address, 'INBOX')).filter(isPart).sort((a, b) => partNo(b) - partNo(a));
    await resetMailbox(address);
    const tampered = Buffer.from(got.find((raw) => partNo(raw) === 2) as Buffer);
    const at = tampered.indexOf('\r\n\r\n', tampered.lastIndexOf('filename=update.part')) + 4;
    tampered[at + 10] = tampered[at + 10] === 0x41 ? 0x42 : 0x41; // one base64 character of the part
    for (const raw of got) await mail.deliverRaw(address, partNo(raw) === 2 ? tampered : raw);
    await waitFor(address, parts, isPart);
    const polled = await run(agent(3), 4, ['poll-mail']);
    expect(polled.stdout).toMatch(/^quarantined PART_HASH_MISMATCH: part 2 of \d+ of package \S+/m);
    expect(await version(3)).toBe('1.0.00-1');
    expect((await run(agent(3), 0, ['poll-mail', '--request-missing-after', '1m'], AHEAD)).stdout).toMatch(
      /^parts-request for package \S+: 1 missing \(2\)$/m,
    );
    await waitFor(mail.hostAddress, 1, fromAgent(3));
    await host(0, 'inbox');
    expect((await waitFor(address, 1, isPart)).map(partNo)).toEqual([2]);
    expect((await run(agent(3), 0, ['poll-mail'], AHEAD)).stdout).toMatch(/^update-part \S+: installed$/m);
    expect(await version(3)).toBe('1.0.02-0');
  }, 300_000);

  it('verify is exact: every agent on 1.0.02-0', async () => {
    await waitFor(mail.hostAddress, 1, fromAgent(3));
    const table = JSON.parse((await run(fleet.host, 0, ['--json', 'verify', '--wait', '30s'], AHEAD)).stdout);
    expect(table.failed).toBe(0);
    expect(table.agents.map((a: { version: string }) => a.version)).toEqual(['1.0.02-0', '1.0.02-0', '1.0.02-0']);
  }, 300_000);
});
