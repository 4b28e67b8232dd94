// The mail adapters (src/core/mail) against the real Postfix + Dovecot of the testbed
// (test/support/servers.ts): TLS with the testbed CA, AUTH, the errors an operator sees,
// and the IMAP inbox reading one at a time and settling into folders.
//
// Mailboxes: this file uses agent16..agent20 only, so that its "INBOX is empty" checks do
// not depend on what other test files leave in other mailboxes.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { createImapInbox, QUARANTINE_KEYWORD } from '../../src/core/mail/imap.js';
import { openInbox, openSender } from '../../src/core/mail/index.js';
import type { InboxMessage, MailInbox, MailSender } from '../../src/core/mail/types.js';
import { parseMailUrl, type ServerMailUrl } from '../../src/core/mail/url.js';
import { type MailTestbed, mailTestbed, withImapSession } from '../support/testbed.js';

let mail: MailTestbed;
beforeAll(() => {
  mail = mailTestbed();
});

const user = (address: string) => encodeURIComponent(address);
const submissionUrl = (password = mail.password) => `smtp://${user(mail.hostAddress)}:${password}@${mail.host}:${mail.submissionPort}`;
const smtpsUrl = () => `smtps://${user(mail.hostAddress)}:${mail.password}@${mail.host}:${mail.smtpsPort}`;
const imapUrl = (address: string, password = mail.password) => `imap://${user(address)}:${password}@${mail.host}:${mail.imapPort}`;
const imapsUrl = (address: string) => `imaps://${user(address)}:${mail.password}@${mail.host}:${mail.imapsPort}`;

function rawMail(to: string, subject: string, body = 'hello\r\n'): Buffer {
  return Buffer.from(
    `From: ${mail.hostAddress}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${randomUUID()}@example.test>\r\n` +
      `Date: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n${body}`,
  );
}

/** A separate, plain imapflow session: the test's own view of a mailbox. */
function withMailbox<T>(address: string, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  return withImapSession(address, fn, { implicitTls: true });
}

interface FolderContent {
  subjects: string[];
  flags: string[][];
}

async function folder(address: string, path: string): Promise<FolderContent> {
  return withMailbox(address, async (client) => {
    const exists = (await client.list()).some((box) => box.path === path);
    if (!exists) return { subjects: [], flags: [] };
    const lock = await client.getMailboxLock(path);
    try {
      if (!client.mailbox || client.mailbox.exists === 0) return { subjects: [], flags: [] };
      const all = await client.fetchAll('1:*', { envelope: true, flags: true });
      return { subjects: all.map((m) => m.envelope?.subject ?? ''), flags: all.map((m) => [...(m.flags ?? [])].sort()) };
    } finally {
      lock.release();
    }
  });
}

/** Empties the test's mailbox (test setup only; the product never deletes mail). */
async function resetMailbox(address: string): Promise<void> {
  await withMailbox(address, async (client) => {
    for (const box of await client.list()) {
      if (box.path !== 'INBOX') await client.mailboxDelete(box.path);
    }
    const lock = await client.getMailboxLock('INBOX');
    try {
      if (client.mailbox && client.mailbox.exists > 0) await client.messageDelete('1:*');
    } finally {
      lock.release();
    }
  });
}

/** APPEND in a known order: UIDs then follow it (RFC 3501 §2.3.1.1). */
async function appendAll(address: string, raws: Buffer[]): Promise<void> {
  await withMailbox(address, async (client) => {
    for (const raw of raws) await client.append('INBOX', raw);
  });
}

async function waitForSubject(address: string, subject: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if ((await folder(address, 'INBOX')).subjects.includes(subject)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`"${subject}" did not reach ${address} within ${ms} ms (see ${mail.dir}/log)`);
}

async function collect(inbox: MailInbox, options: { max?: number; maxSize?: number } = {}): Promise<InboxMessage[]> {
  const out: InboxMessage[] = [];
  for await (const m of inbox.messages(options)) out.push(m);
  return out;
}

const subjectOf = (m: InboxMessage) => /^Subject: (.*)$/m.exec(m.raw.toString())?.[1]?.trim();

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function sendWith(url: string, to: string, subject: string, options: { ca?: Buffer } = { ca: mail.ca }): Promise<void> {
  const sender: MailSender = await openSender(url, options);
  try {
    await sender.sendRaw({ from: mail.hostAddress, to: [to] }, rawMail(to, subject));
  } finally {
    await sender.close();
  }
}

describe('SMTP sender against Postfix', () => {
  it('sends over submission with STARTTLS + AUTH, verifying the server against the CA', async () => {
    const to = mail.agentAddress(16);
    const subject = `submission ${randomUUID()}`;
    await sendWith(submissionUrl(), to, subject);
    await waitForSubject(to, subject);
  });

  it('sends over smtps (implicit TLS) + AUTH', async () => {
    const to = mail.agentAddress(16);
    const subject = `smtps ${randomUUID()}`;
    await sendWith(smtpsUrl(), to, subject);
    await waitForSubject(to, subject);
  });

  it('takes the password from the override (RDS_SMTP_PASSWORD / password file)', async () => {
    const to = mail.agentAddress(16);
    const subject = `override ${randomUUID()}`;
    const sender = await openSender(`smtp://${user(mail.hostAddress)}@${mail.host}:${mail.submissionPort}`, {
      ca: mail.ca,
      passwordOverride: mail.password,
    });
    try {
      await sender.sendRaw({ from: mail.hostAddress, to: [to] }, rawMail(to, subject));
    } finally {
      await sender.close();
    }
    await waitForSubject(to, subject);
  });

  it('refuses a server certificate it cannot verify (no CA given): exit 2, not retried', async () => {
    const error = await sendWith(smtpsUrl(), mail.agentAddress(16), 'no ca', {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SMTP_TLS', exitCode: 2 });
    expect((error as Error).message).toMatch(/self-signed certificate.*--tls-ca/);
  });

  it('says clearly that the password is wrong, without showing it', async () => {
    const error = await sendWith(submissionUrl('wrong-pw-123'), mail.agentAddress(16), 'x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SMTP_AUTH', exitCode: 2 });
    expect((error as Error).message).toBe(
      `SMTP server ${mail.host}:${mail.submissionPort} refused the login of ${mail.hostAddress}: Invalid login: 535 5.7.8 Error: authentication failed: (reason unavailable)`,
    );
    expect(JSON.stringify((error as { details?: unknown }).details)).not.toContain('wrong-pw-123');
  });

  it('reports a stopped server as transient (exit 3)', async () => {
    const port = await closedPort();
    const error = await sendWith(
      `smtp://${user(mail.hostAddress)}:${mail.password}@${mail.host}:${port}`,
      mail.agentAddress(16),
      'x',
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SMTP_UNREACHABLE', exitCode: 3 });
    expect((error as Error).message).toContain(`${mail.host}:${port}`);
    expect((error as Error).message).not.toContain(mail.password);
  });

  it("carries Postfix's reply when it refuses a recipient", async () => {
    const error = await sendWith(submissionUrl(), `nobody@${mail.domain}`, 'x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SMTP_REJECTED', exitCode: 1, details: { responseCode: 550 } });
    expect((error as Error).message).toMatch(/550 5\.1\.1 <nobody@example\.test>: Recipient address rejected/);
  });

  it('refuses mail over the limit before sending; Postfix refuses it too when the limit is raised', async () => {
    const to = mail.agentAddress(16);
    const big = rawMail(to, 'big', `${'x'.repeat(998)}\r\n`.repeat(10_400)); // ~10.4 MB, over Postfix's 10240000
    const local = await openSender(submissionUrl(), { ca: mail.ca });
    const raised = await openSender(submissionUrl(), { ca: mail.ca, maxMessageSize: 50_000_000 });
    try {
      await expect(local.sendRaw({ from: mail.hostAddress, to: [to] }, big)).rejects.toMatchObject({ code: 'MAIL_TOO_LARGE', exitCode: 2 });
      const error = await raised.sendRaw({ from: mail.hostAddress, to: [to] }, big).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'SMTP_REJECTED', details: { responseCode: 552 } });
    } finally {
      await local.close();
      await raised.close();
    }
  });
});

describe('IMAP inbox against Dovecot', () => {
  const A = () => mail.agentAddress(17);
  const B = () => mail.agentAddress(18);

  beforeAll(async () => {
    await resetMailbox(mail.agentAddress(17));
    await resetMailbox(mail.agentAddress(18));
  });

  it('reads oldest first, one at a time; settles into the processed and quarantine folders', async () => {
    const run = randomUUID().slice(0, 8);
    await appendAll(
      A(),
      [0, 1, 2, 3].map((i) => rawMail(A(), `${run} m${i}`)),
    );
    await appendAll(A(), [rawMail(A(), `${run} huge`, 'y'.repeat(50_000))]);

    const inbox = await openInbox(imapUrl(A()), { ca: mail.ca });
    const seen: Array<string | undefined> = [];
    try {
      for await (const message of inbox.messages({ maxSize: 10_000 })) {
        seen.push(message.raw.length === 0 ? `(${message.size} bytes, not downloaded)` : subjectOf(message));
        const bad = message.raw.length === 0 || subjectOf(message)?.endsWith('m2');
        await inbox.settle(message, bad ? { kind: 'quarantined', reason: 'BAD_SIGNATURE' } : { kind: 'processed' });
      }
    } finally {
      await inbox.close();
    }

    expect(seen.slice(0, 4)).toEqual([`${run} m0`, `${run} m1`, `${run} m2`, `${run} m3`]);
    expect(seen[4]).toMatch(/^\(5\d{4} bytes, not downloaded\)$/);
    expect((await folder(A(), 'INBOX')).subjects).toEqual([]);
    expect((await folder(A(), 'rds-processed')).subjects).toEqual([`${run} m0`, `${run} m1`, `${run} m3`]);
    const quarantine = await folder(A(), 'rds-quarantine');
    expect(quarantine.subjects).toEqual([`${run} m2`, `${run} huge`]);
    for (const flags of quarantine.flags) expect(flags).toContain(QUARANTINE_KEYWORD);
  });

  it('over imaps: takes at most max, leaves the rest, and moves nothing it was not told to', async () => {
    const run = randomUUID().slice(0, 8);
    await appendAll(
      B(),
      [0, 1, 2, 3, 4].map((i) => rawMail(B(), `${run} n${i}`)),
    );
    const inbox = await openInbox(imapsUrl(B()), { ca: mail.ca, processedFolder: 'done' });
    try {
      const firstTwo = await collect(inbox, { max: 2 });
      expect(firstTwo.map(subjectOf)).toEqual([`${run} n0`, `${run} n1`]);
      await inbox.settle(firstTwo[0] as InboxMessage, { kind: 'processed' });
      // buffered: a crash now would only mean n0 is fetched again next time
      expect((await folder(B(), 'INBOX')).subjects).toHaveLength(5);
    } finally {
      await inbox.close();
    }
    expect((await folder(B(), 'INBOX')).subjects).toEqual([`${run} n1`, `${run} n2`, `${run} n3`, `${run} n4`]);
    expect((await folder(B(), 'done')).subjects).toEqual([`${run} n0`]);
  });

  it('reads 300 mails in order and settles them all over one session', async () => {
    const address = mail.agentAddress(19);
    await resetMailbox(address);
    await appendAll(
      address,
      Array.from({ length: 300 }, (_, i) => rawMail(address, `bulk ${String(i).padStart(3, '0')}`)),
    );
    const inbox = await openInbox(imapUrl(address), { ca: mail.ca });
    const subjects: Array<string | undefined> = [];
    try {
      for await (const message of inbox.messages({})) {
        subjects.push(subjectOf(message));
        await inbox.settle(message, { kind: 'processed' });
      }
    } finally {
      await inbox.close();
    }
    expect(subjects).toEqual(Array.from({ length: 300 }, (_, i) => `bulk ${String(i).padStart(3, '0')}`));
    expect((await folder(address, 'INBOX')).subjects).toEqual([]);
    expect((await folder(address, 'rds-processed')).subjects).toHaveLength(300);
  });

  it('with small batches: MOVEs go out between messages without disturbing the reading', async () => {
    const address = mail.agentAddress(20);
    await resetMailbox(address);
    await appendAll(
      address,
      Array.from({ length: 40 }, (_, i) => rawMail(address, `small ${String(i).padStart(2, '0')}`)),
    );
    const url = parseMailUrl(imapUrl(address)) as ServerMailUrl;
    const inbox = await createImapInbox(url, { ca: mail.ca, fetchBatch: 7, moveBatch: 5 });
    const subjects: Array<string | undefined> = [];
    let inboxAfterTwelve = -1;
    try {
      for await (const message of inbox.messages({})) {
        subjects.push(subjectOf(message));
        await inbox.settle(message, subjects.length % 4 === 0 ? { kind: 'quarantined', reason: 'x' } : { kind: 'processed' });
        if (subjects.length === 12) inboxAfterTwelve = (await folder(address, 'INBOX')).subjects.length;
      }
    } finally {
      await inbox.close();
    }
    expect(subjects).toEqual(Array.from({ length: 40 }, (_, i) => `small ${String(i).padStart(2, '0')}`));
    expect(inboxAfterTwelve).toBe(30); // two MOVEs of 5 already sent, 2 settlements still buffered
    expect((await folder(address, 'INBOX')).subjects).toEqual([]);
    expect((await folder(address, 'rds-processed')).subjects).toHaveLength(30);
    expect((await folder(address, 'rds-quarantine')).subjects).toHaveLength(10);
  });

  it('mail another session moved after this one read it: settling it is no error, nothing is moved twice', async () => {
    const address = mail.agentAddress(16);
    await resetMailbox(address);
    await appendAll(
      address,
      Array.from({ length: 10 }, (_, i) => rawMail(address, `raced ${i}`)),
    );
    const url = parseMailUrl(imapUrl(address)) as ServerMailUrl;
    const inbox = await createImapInbox(url, { ca: mail.ca });
    const read: InboxMessage[] = [];
    try {
      for await (const message of inbox.messages({})) read.push(message);
      // another worker moves all ten while this session still lists them as here
      await withMailbox(address, async (client) => {
        await client.mailboxCreate('rds-processed').catch(() => undefined);
        const lock = await client.getMailboxLock('INBOX');
        try {
          expect(await client.messageMove('1:*', 'rds-processed')).toBeTruthy();
        } finally {
          lock.release();
        }
      });
      for (const message of read) await inbox.settle(message, { kind: 'processed' });
    } finally {
      await inbox.close();
    }
    expect(read).toHaveLength(10);
    expect((await folder(address, 'INBOX')).subjects).toEqual([]);
    expect((await folder(address, 'rds-processed')).subjects).toHaveLength(10);
  });

  it('a MOVE the server refuses each time fails the pass (IMAP_COMMAND_FAILED, exit 1); the mail stays in INBOX', async () => {
    const address = mail.agentAddress(16);
    await resetMailbox(address);
    await appendAll(address, [rawMail(address, 'stuck 0'), rawMail(address, 'stuck 1')]);
    await withMailbox(address, (client) => client.mailboxCreate('rds-processed'));
    // Dovecot runs as the mail user: a processed folder it may not write to refuses every MOVE
    const [user, domain] = address.split('@') as [string, string];
    const box = path.join(mail.dir, 'mailboxes', domain, user, 'Maildir', '.rds-processed');
    const dirs = ['tmp', 'new', 'cur'].map((d) => path.join(box, d));
    for (const d of dirs) fs.chmodSync(d, 0o500);
    const url = parseMailUrl(imapUrl(address)) as ServerMailUrl;
    const inbox = await createImapInbox(url, { ca: mail.ca });
    const pass = async () => {
      for await (const message of inbox.messages({})) await inbox.settle(message, { kind: 'processed' });
    };
    try {
      // the pass ends by sending the MOVEs it buffered: that is where the refusal surfaces
      const failure = await pass().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: 'IMAP_COMMAND_FAILED', exitCode: 1 });
    } finally {
      for (const d of dirs) fs.chmodSync(d, 0o700);
      await inbox.close();
    }
    expect((await folder(address, 'INBOX')).subjects).toEqual(['stuck 0', 'stuck 1']);
    expect((await folder(address, 'rds-processed')).subjects).toEqual([]);
  });

  it('says clearly that the IMAP password is wrong (exit 2)', async () => {
    const error = await openInbox(imapUrl(mail.agentAddress(20), 'bad-pw-456'), { ca: mail.ca }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'IMAP_AUTH', exitCode: 2 });
    expect((error as Error).message).toBe(
      `IMAP server ${mail.host}:${mail.imapPort} refused the login of ${mail.agentAddress(20)}: Authentication failed.`,
    );
  });

  it('requires a verifiable certificate and reports a stopped server as transient (exit 3)', async () => {
    await expect(openInbox(imapUrl(mail.agentAddress(20)), {})).rejects.toMatchObject({ code: 'IMAP_TLS', exitCode: 2 });
    const port = await closedPort();
    const error = await openInbox(`imaps://${user(mail.agentAddress(20))}:${mail.password}@${mail.host}:${port}`, { ca: mail.ca }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'IMAP_UNREACHABLE', exitCode: 3 });
    expect((error as Error).message).toContain(`${mail.host}:${port}`);
  });
});
