// Agents that read their mail by POP3 (the original system's protocol) on REAL Dovecot
// (dovecot-pop3d, the same users and Maildirs as IMAP): `pop3://` with STLS and `pop3s://`,
// certificates verified against the testbed CA. The host reads by POP3 too. Mailboxes: agent7..agent9 are the agents, agent10 is this file's host (so no other
// file's host inbox sees these mails).
//
// What POP3 changes and this file proves: a handled mail is recorded by UIDL and then
// deleted from the server; a refused one is written to the local quarantine folder with its
// reason before it is deleted; a pass cut between handling and the server's deletion (no
// QUIT) acts on nothing twice; a mail too large to download stays on the server.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pop3Inbox } from '../../src/core/mail/pop3.js';
import { storeLedger } from '../../src/core/mail/pop3-ledger.js';
import { parseMailUrl, type ServerMailUrl } from '../../src/core/mail/url.js';
import { migrate } from '../../src/core/store/db.js';
import { ensureBuilt, rds, tempDir } from '../support/cli.js';
import { type Fleet, installRuns, makeFleet, writeInstallScript } from '../support/fleet.js';
import { realMailBackend } from '../support/real-mail-backend.js';
import { mailTestbed, withImapSession } from '../support/testbed.js';

const tb = () => mailTestbed();
const enc = (a: string) => encodeURIComponent(a);
const pop3Url = (address: string, password = tb().password) => `pop3://${enc(address)}:${password}@127.0.0.1:${tb().pop3Port}`;
const pop3sUrl = (address: string) => `pop3s://${enc(address)}:${tb().password}@127.0.0.1:${tb().pop3sPort}`;

let root: string;
let fleet: Fleet;
const mail = () => realMailBackend();
const agent = (n: number) => fleet.agents[n - 1] as Fleet['agents'][number];

/** Mails in the server's INBOX of `address`, as the test's own IMAP session sees them. */
async function onServer(address: string): Promise<Buffer[]> {
  return mail().mailboxRaw(address, 'INBOX');
}

function localQuarantine(node: Fleet['agents'][number]): { mails: string[]; reasons: string[] } {
  const dir = path.join(node.dir, 'state', 'quarantine', 'pop3');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  return {
    mails: files.filter((f) => f.endsWith('.eml')),
    reasons: files.filter((f) => f.endsWith('.reason')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')),
  };
}

function ledgerRows(node: Fleet['agents'][number]): { kind: string }[] {
  const db = new Database(path.join(node.dir, 'state', 'state.db'), { readonly: true });
  try {
    return db.prepare('SELECT kind FROM pop3_uidl ORDER BY settled_at').all() as { kind: string }[];
  } finally {
    db.close();
  }
}

async function emptyInbox(address: string): Promise<void> {
  await withImapSession(address, async (c) => {
    const lock = await c.getMailboxLock('INBOX');
    try {
      if ((c.mailbox && typeof c.mailbox === 'object' ? c.mailbox.exists : 0) > 0) await c.messageDelete('1:*');
    } finally {
      lock.release();
    }
  });
}

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-e2e-pop3-');
  const t = tb();
  const hostAddress = t.agentAddress(10);
  const agents = [7, 8, 9].map((n) => t.agentAddress(n));
  for (const a of [hostAddress, ...agents]) await emptyInbox(a);
  fleet = await makeFleet(root, {
    hostAddress,
    agentAddresses: agents,
    urlsFor: (address) => ({
      smtp: `smtp://${enc(address)}:${t.password}@127.0.0.1:${t.submissionPort}`,
      imap: address === agents[2] ? pop3sUrl(address) : pop3Url(address),
      tlsCa: t.caFile,
    }),
  });
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('agents on POP3', () => {
  it('an update to three POP3 agents (two STLS, one pop3s): installed, recorded by UIDL, deleted from the server', async () => {
    const script = writeInstallScript(root);
    fs.writeFileSync(path.join(root, 'main.cgi'), 'main v1.0.01\n');
    const pkg = path.join(root, 'up.rdsu');
    await fleet.run(
      fleet.host,
      0,
      'pack-update',
      '--software-version',
      '1.0.02-0',
      '--script',
      script,
      '--module',
      `main.cgi=1.0.01:${path.join(root, 'main.cgi')}`,
      '-o',
      pkg,
    );
    const pushed = JSON.parse((await fleet.run(fleet.host, 0, '--json', 'push-all', pkg)).stdout);
    expect(pushed.agents.map((a: { status: string }) => a.status)).toEqual(['sent', 'sent', 'sent']);
    for (const n of [1, 2, 3]) {
      await mail().waitForMail(agent(n).address);
      expect((await fleet.run(agent(n), 0, 'poll-mail')).stdout).toMatch(/update .*: installed/);
      expect(await onServer(agent(n).address)).toHaveLength(0);
      expect(ledgerRows(agent(n))).toEqual([{ kind: 'processed' }]);
      expect(installRuns(agent(n))).toBe(1);
    }
    await mail().waitForMail(fleet.host.address, 3);
    const table = JSON.parse((await fleet.run(fleet.host, 0, '--json', 'verify', '--wait', '10s')).stdout);
    expect(table.failed).toBe(0);
    expect(table.agents.map((a: { version: string }) => a.version)).toEqual(['1.0.02-0', '1.0.02-0', '1.0.02-0']);
  });

  it('a replayed update and a mail that is not rds: each written to the local quarantine with its reason, then deleted', async () => {
    // the update as the host sent it: take the next one from the server before the agent does
    await fleet.run(fleet.host, 0, 'request-versions', '--agents', agent(1).id);
    await mail().waitForMail(agent(1).address);
    const [request] = await onServer(agent(1).address);
    expect(request).toBeDefined();
    expect((await fleet.run(agent(1), 0, 'poll-mail')).stdout).toMatch(/version-request/);
    await mail().deliverRaw(agent(1).address, request as Buffer);
    await mail().deliverRaw(agent(1).address, Buffer.from('From: someone@example.test\r\nSubject: hello\r\n\r\nnot for rds\r\n'));
    await mail().waitForMail(agent(1).address, 2);
    const r = await fleet.run(agent(1), 4, 'poll-mail');
    expect(r.stdout).toContain('REPLAYED');
    expect(await onServer(agent(1).address)).toHaveLength(0);
    const q = localQuarantine(agent(1));
    expect(q.mails).toHaveLength(2);
    expect(q.reasons.join('')).toMatch(/REPLAYED/);
    for (const f of fs.readdirSync(path.join(agent(1).dir, 'state', 'quarantine', 'pop3'))) {
      expect(fs.statSync(path.join(agent(1).dir, 'state', 'quarantine', 'pop3', f)).mode & 0o777).toBe(0o600);
    }
    expect(ledgerRows(agent(1)).filter((row) => row.kind === 'quarantined')).toHaveLength(2);
  });

  it('a pass cut between handling and QUIT: the mail stays on the server and the next pass deletes it without acting again', async () => {
    const address = agent(2).address;
    await mail().deliverRaw(address, Buffer.from('From: x@example.test\r\nSubject: one\r\n\r\nbody\r\n'));
    await mail().waitForMail(address);
    const db = new Database(path.join(agent(2).dir, 'state', 'state.db'));
    migrate(db);
    try {
      const url = parseMailUrl(pop3Url(address)) as ServerMailUrl;
      const ledger = storeLedger(db, url);
      const quarantineDir = path.join(root, 'cut-quarantine');
      const first = new Pop3Inbox(url, { ledger, quarantineDir, ca: tb().ca });
      let handled = 0;
      for await (const m of first.messages({})) {
        handled++;
        await first.settle(m, { kind: 'processed' });
      }
      expect(handled).toBe(1);
      // the connection drops before QUIT: Dovecot keeps the DELE-marked mail
      (first as unknown as { client: { destroy(): void } }).client.destroy();
      await waitUntil(async () => (await onServer(address)).length === 1);
      const second = new Pop3Inbox(url, { ledger, quarantineDir, ca: tb().ca });
      const again: string[] = [];
      for await (const m of second.messages({})) again.push(m.uid);
      await second.close();
      expect(again).toEqual([]);
      expect(await onServer(address)).toHaveLength(0);
    } finally {
      db.close();
    }
  });

  it('a mail too large to download stays on the server, its reason kept locally, and is not handed out again', async () => {
    const address = agent(2).address;
    const config = JSON.parse(fs.readFileSync(agent(2).config, 'utf8'));
    fs.writeFileSync(agent(2).config, JSON.stringify({ ...config, maxMessageSize: 2048 }), { mode: 0o600 });
    try {
      await mail().deliverRaw(address, Buffer.from(`From: x@example.test\r\nSubject: big\r\n\r\n${'x'.repeat(70)}\r\n`.repeat(60)));
      await mail().waitForMail(address);
      const first = await rds(['--config', agent(2).config, 'poll-mail'], { cwd: root });
      expect(first.code, first.stderr).toBe(4);
      expect(first.stdout).toMatch(/OVERSIZE/);
      expect(await onServer(address)).toHaveLength(1);
      expect(localQuarantine(agent(2)).reasons.join('')).toMatch(/left on the server/);
      const second = await fleet.run(agent(2), 0, 'poll-mail');
      expect(second.stdout).not.toMatch(/OVERSIZE/);
      expect(await onServer(address)).toHaveLength(1);
    } finally {
      fs.writeFileSync(agent(2).config, JSON.stringify(config), { mode: 0o600 });
      await emptyInbox(address);
    }
  });

  it('rds doctor logs in by POP3 (STLS and pop3s) and deletes nothing', async () => {
    for (const n of [2, 3]) {
      await mail().deliverRaw(agent(n).address, Buffer.from('From: x@example.test\r\nSubject: keep\r\n\r\nbody\r\n'));
      await mail().waitForMail(agent(n).address);
      const r = await fleet.run(agent(n), 0, 'doctor');
      expect(r.stdout).toMatch(
        n === 3
          ? /POP3 TLS verified, login as agent9@example\.test accepted, 1 waiting/
          : /POP3 STLS verified, login as agent8@example\.test accepted, 1 waiting/,
      );
      expect(await onServer(agent(n).address)).toHaveLength(1);
      await emptyInbox(agent(n).address);
    }
  });

  it('a wrong POP3 password is a config error (exit 2), one line, no password shown', async () => {
    const config = JSON.parse(fs.readFileSync(agent(3).config, 'utf8'));
    const wrong = path.join(agent(3).dir, 'config-wrong.json');
    fs.writeFileSync(wrong, JSON.stringify({ ...config, imap: pop3Url(agent(3).address, 'wrong-pw-77') }), { mode: 0o600 });
    const r = await rds(['--config', wrong, 'poll-mail'], { cwd: root });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/POP3 login as agent9@example\.test at 127\.0\.0\.1:\d+ refused/);
    expect(r.stderr).not.toContain('wrong-pw-77');
  });

  it('pop3s:// without the private CA: TLS verification fails, exit 2', async () => {
    const config = JSON.parse(fs.readFileSync(agent(3).config, 'utf8'));
    const { tlsCa: _ca, ...noCa } = config;
    const file = path.join(agent(3).dir, 'config-noca.json');
    fs.writeFileSync(file, JSON.stringify(noCa), { mode: 0o600 });
    const r = await rds(['--config', file, 'poll-mail'], { cwd: root });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/TLS with POP3 server 127\.0\.0\.1:\d+ failed/);
  });
});

async function waitUntil(probe: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
