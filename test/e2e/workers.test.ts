// Several inbox workers (issue 14, docs/protocol.md#several-workers) on REAL Dovecot with the
// real binary: 1,000 signed version reports (and 60 fault reports, whose ack and receipt
// count are effects that are NOT idempotent) wait in the host's INBOX; three `rds inbox
// --worker` processes take them in at once, one is killed with SIGKILL mid-way (once the
// store holds more than 100 processed mails: a condition, never a sleep), the other two
// finish, then one plain pass. Every report is stored exactly once, every fault counted and
// acked once, INBOX is empty and nothing went to quarantine.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as openpgp from 'openpgp';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/core/crypto/keys.js';
import { composeMail, VERSIONS_ATTACHMENT } from '../../src/core/message/mail.js';
import { buildPayload, signPayload } from '../../src/core/message/payload.js';
import { formatVersionText } from '../../src/core/version/version-text.js';
import { ensureBuilt, rdsExpect, startRds, storeArgs, tempDir } from '../support/cli.js';
import { mailTestbed, withImapSession } from '../support/testbed.js';

const AGENTS = 20;
const REPORTS_PER_AGENT = 50; // 1,000 version reports
const FAULTS_PER_AGENT = 3; // 60 fault reports
const VERSION = '1.0.02-0';
const VERSION_TEXT = formatVersionText({
  softwareVersion: VERSION,
  modules: [{ name: 'main.cgi', version: '1.0.02', date: '2026/12/01' }],
});

let root: string;
let hostConfig: string;
let hostAddress: string;
/** `--store URL --store-password-file F` on the e2e-pg run (RDS_TEST_STORE=postgres), else none: SQLite */
let store: string[] = [];

/** The test's own read-only view of the host's store: SQLite's file, or the PostgreSQL database. */
async function storeView(): Promise<{ count(sql: string): Promise<number>; close(): Promise<void> }> {
  const [, url, , passwordFile] = store;
  if (url && passwordFile) {
    const u = new URL(url);
    const client = new pg.Client({
      host: u.hostname,
      port: Number(u.port),
      user: decodeURIComponent(u.username),
      database: u.pathname.slice(1),
      password: fs.readFileSync(passwordFile, 'utf8').trim(),
    });
    await client.connect();
    return {
      count: async (sql) => Number((await client.query(sql)).rows[0].n),
      close: () => client.end(),
    };
  }
  const db = new Database(path.join(root, 'host', 'state', 'state.db'), { readonly: true, fileMustExist: true });
  return { count: async (sql) => (db.prepare(sql).get() as { n: number }).n, close: async () => void db.close() };
}

/** Until `probe` holds, checked every 20 ms, at most `ms`. */
async function until(what: string, probe: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const agentId = (i: number) => `AGENT${String(i).padStart(7, '0')}`;
const host = (expected: number, ...args: string[]) => rdsExpect(expected, ['--config', hostConfig, ...args], { cwd: root });

/** Until Postfix's queue under the testbed is empty (bounded: 120 s). */
async function postfixQueueEmpty(dir: string): Promise<void> {
  const spool = path.join(dir, 'spool');
  const files = (q: string) => {
    try {
      return fs.readdirSync(path.join(spool, q), { recursive: true }).length;
    } catch {
      return 0;
    }
  };
  const t0 = performance.now();
  while (['maildrop', 'incoming', 'active', 'deferred', 'hold'].reduce((n, q) => n + files(q), 0) > 0) {
    if (performance.now() - t0 > 120_000) throw new Error(`Postfix queue under ${spool} not empty after 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every folder of a mailbox emptied, every folder but INBOX deleted. */
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

const folderCount = (address: string, folder: string) =>
  withImapSession(address, async (client) => {
    if (!(await client.list()).some((m) => m.path === folder)) return 0;
    const status = await client.status(folder, { messages: true });
    return status ? (status.messages ?? 0) : 0;
  });

/** One agent's signed mail to the host, as the agent's reply() builds it. */
async function agentMail(key: openpgp.PrivateKey, id: string, address: string, type: 'version-report' | 'fault-report', body: object) {
  const payload = buildPayload({ type, from: id, to: ['HOST'], body, ttlMs: 86_400_000, clock: { now: () => new Date() } });
  const versions = type === 'version-report';
  const { raw } = await composeMail({
    from: address,
    to: hostAddress,
    subject: `[rds] ${type} from ${id}`,
    text: type,
    type,
    payloadId: payload.id,
    armoredPayload: await signPayload(payload, key),
    ...(versions
      ? { attachments: [{ filename: VERSIONS_ATTACHMENT, content: Buffer.from(VERSION_TEXT), contentType: 'text/plain; charset=utf-8' }] }
      : {}),
  });
  return raw;
}

function fault(n: number) {
  const at = new Date(Date.now() - 60_000).toISOString();
  return {
    eventId: `ev-${n}`,
    kind: 'raised',
    deviceId: 'mfp-1',
    code: 'jam',
    subunit: '',
    severity: 'critical',
    raisedAt: at,
    clearedAt: null,
  };
}

/** The fleet registered in one `rds agents import`; every agent's mail appended to the host's INBOX. */
async function fillInbox(): Promise<void> {
  const tb = mailTestbed();
  const rows: string[] = ['id,address,key,note'];
  const raws: Buffer[] = [];
  const t0 = performance.now();
  for (let i = 1; i <= AGENTS; i++) {
    const id = agentId(i);
    const address = tb.agentAddress(i);
    const pair = await generateKeyPair(id, address);
    const keyFile = path.join(root, `${id}.asc`);
    fs.writeFileSync(keyFile, pair.publicArmored);
    rows.push(`${id},${address},${keyFile},workers`);
    const key = await openpgp.readPrivateKey({ armoredKey: pair.privateArmored });
    for (let r = 0; r < REPORTS_PER_AGENT; r++) {
      raws.push(await agentMail(key, id, address, 'version-report', { softwareVersion: VERSION, versionText: VERSION_TEXT }));
    }
    for (let f = 0; f < FAULTS_PER_AGENT; f++) raws.push(await agentMail(key, id, address, 'fault-report', { reports: [fault(f)] }));
  }
  console.log(`signed ${raws.length} mails in ${Math.round(performance.now() - t0)} ms`);
  const csv = path.join(root, 'fleet.csv');
  fs.writeFileSync(csv, `${rows.join('\n')}\n`);
  await host(0, 'agents', 'import', csv);
  deliverToMaildir(raws);
  console.log(`appended in ${Math.round(performance.now() - t0)} ms`);
}

/**
 * Delivered the way a local delivery agent does into Dovecot's Maildir (written in tmp/,
 * renamed into new/, owned like the mailbox): Dovecot gives them UIDs when INBOX is opened.
 * 1,060 IMAP APPENDs cost ~20 s; this costs well under one.
 */
function deliverToMaildir(raws: Buffer[]): void {
  const tb = mailTestbed();
  const maildir = path.join(tb.dir, 'mailboxes', tb.domain, hostAddress.split('@')[0] as string, 'Maildir');
  const owner = fs.statSync(maildir);
  for (const [i, raw] of raws.entries()) {
    const name = `${Math.floor(Date.now() / 1000)}.M${i}P${process.pid}.rds-workers-test`;
    const tmp = path.join(maildir, 'tmp', name);
    fs.writeFileSync(tmp, raw, { mode: 0o600 });
    fs.chownSync(tmp, owner.uid, owner.gid);
    fs.renameSync(tmp, path.join(maildir, 'new', name));
  }
}

/** A failed worker's last IMAP debug lines (the workers run with --verbose for this). */
function imapLines(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => /imap|move|INBOX/i.test(l));
  return [stderr.split('\n').filter(Boolean).at(-1) ?? '', ...lines.slice(-60)].join('\n');
}

describe('several inbox workers on one store and one mailbox', () => {
  beforeAll(async () => {
    ensureBuilt();
    const tb = mailTestbed();
    hostAddress = tb.hostAddress;
    root = tempDir('rds-workers-');
    store = await storeArgs(root);
    const enc = encodeURIComponent(hostAddress);
    await rdsExpect(
      0,
      [
        ...['init', '--role', 'host', '--id', 'HOST', '--address', hostAddress, '--dir', path.join(root, 'host')],
        ...['--smtp', `smtp://${enc}:${tb.password}@127.0.0.1:${tb.submissionPort}`],
        ...['--imap', `imap://${enc}:${tb.password}@127.0.0.1:${tb.imapPort}`, '--tls-ca', tb.caFile],
        ...store,
      ],
      { cwd: root },
    );
    hostConfig = path.join(root, 'host', 'config.json');
    await resetMailbox(hostAddress);
    for (let i = 1; i <= AGENTS; i++) await resetMailbox(tb.agentAddress(i));
    await fillInbox();
  }, 180_000);

  afterAll(async () => {
    if (hostAddress) await resetMailbox(hostAddress);
    // the host's fault acks went to the agents' mailboxes, which the next files use: wait
    // until Postfix has handed every accepted mail to Dovecot, then empty them
    await postfixQueueEmpty(mailTestbed().dir);
    for (let i = 1; i <= AGENTS; i++) await resetMailbox(mailTestbed().agentAddress(i));
    if (root) fs.rmSync(root, { recursive: true, force: true });
  }, 180_000);

  it('three workers, one killed with SIGKILL mid-way, then one pass: each mail acted on exactly once', async () => {
    const total = AGENTS * (REPORTS_PER_AGENT + FAULTS_PER_AGENT);
    expect(await folderCount(hostAddress, 'INBOX')).toBe(total);
    const view = await storeView();
    try {
      const count = view.count;
      const t0 = performance.now();
      const workers = [0, 1, 2].map(() =>
        startRds(['--config', hostConfig, '--json', '--verbose', 'inbox', '--worker'], { cwd: root, timeoutMs: 120_000 }),
      );
      // kill one once the store holds more than 100 processed mails (bounded wait on a condition)
      const ended: string[] = [];
      for (const w of workers) void w.done.then((r) => ended.push(`exit ${r.code ?? r.signal}: ${r.stderr.slice(-2000)}`));
      await until(
        'more than 100 processed mails',
        async () => ended.length > 0 || (await count('SELECT count(*) AS n FROM processed_messages')) > 100,
        60_000,
      );
      expect(ended, 'no worker ended before the kill').toEqual([]);
      const victim = workers[1] as (typeof workers)[number];
      console.log(`kill after ${Math.round(performance.now() - t0)} ms`);
      victim.child.kill('SIGKILL');
      const [first, killed, third] = await Promise.all(workers.map((w) => w.done));
      console.log(`workers done after ${Math.round(performance.now() - t0)} ms`);
      expect(killed?.signal).toBe('SIGKILL');
      for (const r of [first, third]) expect(r?.code, imapLines(r?.stderr ?? '')).toBe(0);
      const t1 = performance.now();
      for (const r of [first, third]) {
        const d = JSON.parse(r?.stdout ?? '{}');
        console.log(
          `worker: ${d.processed?.length} processed, ${d.alreadyDone?.length} done before, ${d.takenByOther?.length} left to another worker, ${d.failed?.length} failed`,
        );
      }
      console.log(`before the final pass: INBOX ${await folderCount(hostAddress, 'INBOX')}`);
      const last = await host(0, '--json', 'inbox');
      const d = JSON.parse(last.stdout);
      console.log(
        `final: ${d.processed?.length} processed, ${d.alreadyDone?.length} done before in ${Math.round(performance.now() - t1)} ms`,
      );

      expect(await count('SELECT count(*) AS n FROM version_reports')).toBe(AGENTS * REPORTS_PER_AGENT);
      expect(await count('SELECT count(*) AS n FROM processed_messages')).toBe(total);
      expect(await count("SELECT count(*) AS n FROM processed_messages WHERE outcome = 'claimed'")).toBe(0);
      // not idempotent: each fault report counted once and acked once
      expect(await count('SELECT count(*) AS n FROM host_faults')).toBe(AGENTS * FAULTS_PER_AGENT);
      expect(await count('SELECT count(*) AS n FROM host_faults WHERE reports <> 1')).toBe(0);
      expect(await count("SELECT count(*) AS n FROM outbox WHERE kind = 'fault-ack'")).toBe(AGENTS * FAULTS_PER_AGENT);
      expect(await count('SELECT count(*) AS n FROM quarantine')).toBe(0);
      expect(await folderCount(hostAddress, 'INBOX')).toBe(0);
      expect(await folderCount(hostAddress, 'rds-quarantine')).toBe(0);
      expect(await folderCount(hostAddress, 'rds-processed')).toBe(total);
    } finally {
      await view.close();
    }
  }, 240_000);
});
