// A representative handful of hostile mails through REAL Postfix + Dovecot (what a real
// server does with them matters: size limits, long headers, MIME nesting, duplicate
// headers), read by `rds poll-mail` over IMAP. Each case checks the reason code (--json and
// the quarantine table), exit 4, that the mail left INBOX for the rds-quarantine IMAP
// folder (not lost), and that the install script of the package it carries never ran.
//
// Every agentN mailbox of the testbed belongs to another file of this project
// (faults-injection.test.ts), so this file adds two mailboxes of its own at run time
// (hostile-host, hostile-agent): Dovecot re-reads its passwd-file when it changes, Postfix
// re-reads its texthash map on `postfix reload`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL, type RefusalCode } from '../../src/core/errors.js';
import { ensureBuilt, rds, rdsExpect, sleep, tempDir } from '../support/cli.js';
import { type Fleet, type FleetNode, makeFleet } from '../support/fleet.js';
import { type MailTestbed, mailTestbed, withImapSession } from '../support/testbed.js';
import {
  craftTarGz,
  expectAbsent,
  freshKey,
  hostileTally,
  payload,
  privateKeyOf,
  publicKeyOf,
  quarantineRows,
  type RawMailInput,
  rawMail,
  seal,
  sign,
  tamperedSignature,
} from './helpers.js';

const { hostileCase } = hostileTally('real-servers');
const SBIN_PATH = `/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}`;
const AGENT_MAX_MESSAGE_SIZE = 1024 * 1024;

let tb: MailTestbed;
let root: string;
let fleet: Fleet;
let agent: FleetNode;
let hostAddress: string;
let hostKey: openpgp.PrivateKey;
let pkg: Buffer;
let marker: string;

/** Add mailboxes to the running testbed (idempotent). */
async function addMailboxes(locals: string[]): Promise<void> {
  const users = path.join(tb.dir, 'dovecot', 'users');
  const vmailbox = path.join(tb.dir, 'postfix', 'vmailbox');
  let changed = false;
  for (const local of locals) {
    const address = `${local}@${tb.domain}`;
    if (!fs.readFileSync(users, 'utf8').includes(`${address}:`)) {
      fs.appendFileSync(users, `${address}:{PLAIN}${tb.password}::::::\n`);
      changed = true;
    }
    if (!fs.readFileSync(vmailbox, 'utf8').includes(`${address} `)) {
      fs.appendFileSync(vmailbox, `${address} OK\n`);
      changed = true;
    }
  }
  if (!changed) return;
  const r = spawnSync('postfix', ['-c', path.join(tb.dir, 'postfix'), 'reload'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: SBIN_PATH },
  });
  if (r.status !== 0) throw new Error(`postfix reload failed: ${r.stderr}`);
}

function imap<T>(address: string, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  return withImapSession(address, fn);
}

async function count(address: string, folder: string): Promise<number> {
  return imap(address, async (c) => {
    if (!(await c.list()).some((m) => m.path === folder)) return 0;
    const status = await c.status(folder, { messages: true });
    return status ? (status.messages ?? 0) : 0;
  });
}

/** Hand a raw mail to Postfix on its plain SMTP port (no AUTH from loopback), as the Internet would. */
async function deliver(to: string, raw: Buffer): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: tb.smtpPort, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ envelope: { from: `stranger@${tb.domain}`, to: [to] }, raw });
  } finally {
    transport.close();
  }
}

async function waitForInbox(address: string, n: number, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if ((await count(address, 'INBOX')) >= n) return;
    await sleep(200);
  }
  throw new Error(`INBOX of ${address} did not reach ${n} mail(s) in ${ms} ms`);
}

beforeAll(async () => {
  ensureBuilt();
  tb = mailTestbed();
  hostAddress = `hostile-host@${tb.domain}`;
  const agentAddress = `hostile-agent@${tb.domain}`;
  await addMailboxes(['hostile-host', 'hostile-agent']);
  // the reload is asynchronous: probe until Postfix accepts the new recipient, then drop the probe
  for (let i = 0; ; i++) {
    try {
      await deliver(agentAddress, Buffer.from(`From: probe@${tb.domain}\r\nSubject: probe\r\n\r\nprobe\r\n`));
      break;
    } catch (error) {
      if (i > 60) throw error;
      await sleep(500);
    }
  }
  await waitForInbox(agentAddress, 1);
  await imap(agentAddress, async (c) => {
    const lock = await c.getMailboxLock('INBOX');
    try {
      await c.messageDelete('1:*');
    } finally {
      lock.release();
    }
  });
  root = tempDir('rds-hostile-real-');
  const enc = encodeURIComponent;
  fleet = await makeFleet(root, {
    hostAddress,
    agentAddresses: [agentAddress],
    urlsFor: (address) => ({
      smtp: `smtp://${enc(address)}:${tb.password}@127.0.0.1:${tb.submissionPort}`,
      imap: `imap://${enc(address)}:${tb.password}@127.0.0.1:${tb.imapPort}`,
      tlsCa: tb.caFile,
    }),
  });
  agent = fleet.agents[0] as FleetNode;
  const config = JSON.parse(fs.readFileSync(agent.config, 'utf8'));
  config.maxMessageSize = AGENT_MAX_MESSAGE_SIZE;
  fs.writeFileSync(agent.config, JSON.stringify(config, null, 2), { mode: 0o600 });
  hostKey = await privateKeyOf(path.join(fleet.host.dir, 'keys', 'private.asc'));
  marker = path.join(root, 'EXECUTED');
  pkg = await seal(craftTarGz({ marker }), await publicKeyOf(agent.publicKeyFile), hostKey);
}, 180_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function updateMail(o: { key?: openpgp.PrivateKey; payloadAsc?: string } & Partial<RawMailInput> = {}): Promise<Buffer> {
  const p = payload({ type: 'update', to: [agent.id], body: { rolloutId: 'R-real', softwareVersion: '1.0.02-0' } });
  return rawMail({
    from: hostAddress,
    to: agent.address,
    payloadAsc: o.payloadAsc ?? (await sign(p, o.key ?? hostKey)),
    ...o,
    attachments: [{ filename: 'update.rdsu', content: pkg }, ...(o.attachments ?? [])],
  });
}

interface RealCase {
  name: string;
  code: RefusalCode;
  mail: () => Promise<Buffer>;
}

const cases: RealCase[] = [
  {
    name: `oversize: 3 MB, under Postfix's limit, over the agent's maxMessageSize (${AGENT_MAX_MESSAGE_SIZE} bytes)`,
    code: REFUSAL.OVERSIZE,
    mail: () => updateMail({ attachments: [{ filename: 'filler.bin', content: Buffer.alloc(3 * 1024 * 1024, 0x41) }] }),
  },
  {
    name: 'enormous headers: 3,000 header lines (200 KB)',
    code: REFUSAL.MALFORMED_MAIL,
    mail: () => updateMail({ headers: Array.from({ length: 3000 }, (_, i) => `X-Filler-${i}: ${'a'.repeat(60)}`) }),
  },
  {
    name: 'enormous headers: one folded header of 300 KB',
    code: REFUSAL.MALFORMED_MAIL,
    mail: () => updateMail({ headers: [`X-Huge: ${Array.from({ length: 4000 }, () => 'b'.repeat(72)).join('\r\n ')}`] }),
  },
  { name: 'deeply nested MIME (12 levels)', code: REFUSAL.MALFORMED_MAIL, mail: () => updateMail({ nest: 12 }) },
  {
    name: 'two From header lines (the host first)',
    code: REFUSAL.MALFORMED_MAIL,
    mail: () => updateMail({ from: [hostAddress, `evil@${tb.domain}`] }),
  },
  { name: 'forged From', code: REFUSAL.SENDER_MISMATCH, mail: () => updateMail({ from: `evil@${tb.domain}` }) },
  {
    name: 'bad signature (one signed byte changed)',
    code: REFUSAL.BAD_SIGNATURE,
    mail: async () =>
      updateMail({
        payloadAsc: await tamperedSignature(
          payload({ type: 'update', to: [agent.id], body: { rolloutId: 'R-real', softwareVersion: '1.0.02-0' } }),
          hostKey,
          'R-real',
          'R-reak',
        ),
      }),
  },
  { name: 'signed by an unknown key', code: REFUSAL.UNKNOWN_KEY, mail: async () => updateMail({ key: await freshKey('HOST') }) },
];

describe('hostile mail through real Postfix + Dovecot (poll-mail over IMAP)', () => {
  for (const c of cases) {
    hostileCase(`${c.code}: ${c.name}`, async () => {
      const quarantined = await count(agent.address, 'rds-quarantine');
      const rows = quarantineRows(path.join(agent.dir, 'state')).length;
      await deliver(agent.address, await c.mail());
      await waitForInbox(agent.address, 1);
      const r = await rds(['--json', '--config', agent.config, 'poll-mail'], { cwd: root, timeoutMs: 90_000 });
      expect(r.code, `exit code\n${r.stdout}\n${r.stderr}`).toBe(4);
      expect(JSON.parse(r.stdout).quarantined.map((q: { code: string }) => q.code)).toEqual([c.code]);
      const after = quarantineRows(path.join(agent.dir, 'state'));
      expect(after).toHaveLength(rows + 1);
      expect(after.at(-1)?.reason_code).toBe(c.code);
      expect(await count(agent.address, 'INBOX')).toBe(0);
      expect(await count(agent.address, 'rds-quarantine')).toBe(quarantined + 1);
      expectAbsent(marker);
    });
  }

  it("a mail over Postfix's own limit (11 MB) never reaches the agent: Postfix refuses it (552)", async () => {
    const big = await updateMail({ attachments: [{ filename: 'filler.bin', content: Buffer.alloc(11 * 1024 * 1024, 0x41) }] });
    await expect(deliver(agent.address, big)).rejects.toMatchObject({ responseCode: 552 });
    const r = await rdsExpect(0, ['--json', '--config', agent.config, 'poll-mail'], { cwd: root, timeoutMs: 90_000 });
    expect(JSON.parse(r.stdout)).toMatchObject({ processed: [], quarantined: [] });
  });

  it('control: the same update, well formed, installs over IMAP (the marker appears)', async () => {
    await deliver(agent.address, await updateMail());
    await waitForInbox(agent.address, 1);
    const r = await rdsExpect(0, ['--json', '--config', agent.config, 'poll-mail'], { cwd: root, timeoutMs: 90_000 });
    expect(JSON.parse(r.stdout).processed).toEqual([expect.objectContaining({ type: 'update', outcome: 'installed' })]);
    expect(fs.readFileSync(marker, 'utf8')).toBe('ran 1.0.02-0\n');
  });
});
