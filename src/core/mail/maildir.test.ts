import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MaildirInbox, MaildirSender } from './maildir.js';
import { compareArrival, uniqueName } from './maildir-layout.js';
import type { InboxMessage, MailInbox } from './types.js';

const HOST = 'host@example.test';
const AGENT = 'agent1@example.test';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'rds-maildir-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function mail(subject: string, body = 'hello'): Buffer {
  return Buffer.from(`From: ${HOST}\r\nTo: ${AGENT}\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);
}

async function collect(inbox: MailInbox, options: { max?: number; maxSize?: number } = {}): Promise<InboxMessage[]> {
  const out: InboxMessage[] = [];
  for await (const m of inbox.messages(options)) out.push(m);
  return out;
}

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe('MaildirSender', () => {
  it('delivers byte for byte into new/ of every recipient, private modes, nothing left in tmp/', async () => {
    const sender = new MaildirSender(root, { fsync: false });
    const raw = mail('one');
    await sender.sendRaw({ from: HOST, to: [AGENT, 'Agent2@Example.TEST'] }, raw);
    for (const box of [AGENT, 'agent2@example.test']) {
      const dir = path.join(root, box);
      const names = await readdir(path.join(dir, 'new'));
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(/^\d+\.M\d+P\d+Q\d+R[0-9a-f]{8}\..+,S=\d+$/);
      expect(await readFile(path.join(dir, 'new', names[0] as string))).toEqual(raw);
      expect(await readdir(path.join(dir, 'tmp'))).toEqual([]);
      expect(await mode(path.join(dir, 'new', names[0] as string))).toBe(0o600);
      expect(await mode(dir)).toBe(0o700);
      expect(await mode(path.join(dir, 'cur'))).toBe(0o700);
    }
  });

  it.each(['../escape@example.test', 'a/b@example.test', '.hidden@example.test', 'no-at-sign', 'a\\b@x.y'])(
    'refuses recipient %j before delivering to anyone',
    async (bad) => {
      const sender = new MaildirSender(root, { fsync: false });
      await expect(sender.sendRaw({ from: HOST, to: [AGENT, bad] }, mail('x'))).rejects.toMatchObject({
        code: 'MAILDIR_BAD_ADDRESS',
        exitCode: 2,
      });
      expect(await readdir(root)).toEqual([]);
    },
  );

  it('refuses a mail over the size limit before writing anything', async () => {
    const sender = new MaildirSender(root, { maxMessageSize: 100 });
    const error = await sender.sendRaw({ from: HOST, to: [AGENT] }, Buffer.alloc(101, 65)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MAIL_TOO_LARGE', exitCode: 2, details: { size: 101, limit: 100 } });
    expect((error as Error).message).toMatch(/101 bytes .* limit of 100 bytes/);
    expect(await readdir(root)).toEqual([]);
  });
});

describe('MaildirInbox', () => {
  it('reads oldest first, one at a time, across new/ and cur/, at most max', async () => {
    const sender = new MaildirSender(root, { fsync: false });
    for (let i = 0; i < 12; i++) await sender.sendRaw({ from: HOST, to: [AGENT] }, mail(`m${i}`));
    // a mail a reader already moved to cur/ (with Maildir info) keeps its place in the order
    const box = path.join(root, AGENT);
    const [first] = (await readdir(path.join(box, 'new'))).sort(compareArrival);
    const { rename } = await import('node:fs/promises');
    await rename(path.join(box, 'new', first as string), path.join(box, 'cur', `${first}:2,S`));

    const inbox = new MaildirInbox(root, AGENT);
    const all = await collect(inbox);
    expect(all.map((m) => m.raw.toString().match(/Subject: (\w+)/)?.[1])).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`));
    expect(all[0]?.uid).toMatch(/^cur\//);
    expect(await collect(inbox, { max: 3 })).toHaveLength(3);
  });

  it('a worker (spread) reads every mail once, in arrival order from a random place round to it', async () => {
    const sender = new MaildirSender(root, { fsync: false });
    for (let i = 0; i < 12; i++) await sender.sendRaw({ from: HOST, to: [AGENT] }, mail(`m${i}`));
    const subjects = (ms: InboxMessage[]) => ms.map((m) => Number(m.raw.toString().match(/Subject: m(\d+)/)?.[1]));
    const starts = new Set<number>();
    for (let round = 0; round < 40; round++) {
      const got = subjects(await collect(new MaildirInbox(root, AGENT, { spread: true })));
      const start = got[0] as number;
      expect(got).toEqual(Array.from({ length: 12 }, (_, i) => (start + i) % 12));
      starts.add(start);
    }
    expect(starts.size).toBeGreaterThan(1); // 40 rounds from one place: 12^-39
  });

  it('yields a mail over maxSize without its body', async () => {
    const sender = new MaildirSender(root, { fsync: false });
    await sender.sendRaw({ from: HOST, to: [AGENT] }, mail('big', 'x'.repeat(5000)));
    await sender.sendRaw({ from: HOST, to: [AGENT] }, mail('small'));
    const [big, small] = await collect(new MaildirInbox(root, AGENT), { maxSize: 1000 });
    expect(big).toMatchObject({ raw: Buffer.alloc(0) });
    expect(big?.size).toBeGreaterThan(5000);
    expect(small?.raw.toString()).toContain('Subject: small');
  });

  it('settles into Maildir++ subfolders, records the quarantine reason, never deletes', async () => {
    const sender = new MaildirSender(root, { fsync: false });
    await sender.sendRaw({ from: HOST, to: [AGENT] }, mail('good'));
    await sender.sendRaw({ from: HOST, to: [AGENT] }, mail('evil'));
    const inbox = new MaildirInbox(root, AGENT);
    const [good, evil] = await collect(inbox);
    await inbox.settle(good as InboxMessage, { kind: 'processed' });
    await inbox.settle(evil as InboxMessage, { kind: 'quarantined', reason: 'BAD_SIGNATURE: signature does not verify\nsecond line' });
    await inbox.close();

    const box = path.join(root, AGENT);
    expect(await collect(new MaildirInbox(root, AGENT))).toEqual([]);
    const processed = await readdir(path.join(box, '.rds-processed', 'cur'));
    expect(processed).toHaveLength(1);
    expect(processed[0]).toMatch(/:2,S$/);
    expect((await readFile(path.join(box, '.rds-processed', 'cur', processed[0] as string))).toString()).toContain('Subject: good');
    const quarantined = await readdir(path.join(box, '.rds-quarantine', 'cur'));
    expect((await readFile(path.join(box, '.rds-quarantine', 'cur', quarantined[0] as string))).toString()).toContain('Subject: evil');
    const reasons = await readdir(path.join(box, '.rds-quarantine', 'rds-reasons'));
    expect(reasons).toEqual([`${(quarantined[0] as string).split(':')[0]}.reason`]);
    expect(await readFile(path.join(box, '.rds-quarantine', 'rds-reasons', reasons[0] as string), 'utf8')).toBe(
      'BAD_SIGNATURE: signature does not verify second line\n',
    );
    expect(await readdir(path.join(box, '.rds-quarantine'))).toContain('maildirfolder');
  });

  it('uses the configured folder names and treats an already-settled mail as done', async () => {
    await new MaildirSender(root, { fsync: false }).sendRaw({ from: HOST, to: [AGENT] }, mail('x'));
    const inbox = new MaildirInbox(root, AGENT, { processedFolder: 'done' });
    const [m] = await collect(inbox);
    await inbox.settle(m as InboxMessage, { kind: 'processed' });
    await inbox.settle(m as InboxMessage, { kind: 'processed' });
    expect(await readdir(path.join(root, AGENT, '.done', 'cur'))).toHaveLength(1);
    expect(() => new MaildirInbox(root, AGENT, { quarantineFolder: '../x' })).toThrow(/folder name "..\/x" is not allowed/);
  });

  it('refuses a uid that would leave the inbox', async () => {
    const inbox = new MaildirInbox(root, AGENT);
    await writeFile(path.join(root, 'victim'), 'x');
    for (const uid of ['new/../../victim', '../victim', 'cur/.x', 'tmp/x']) {
      await expect(inbox.settle({ uid, raw: Buffer.alloc(0), size: 0 }, { kind: 'processed' })).rejects.toMatchObject({
        code: 'MAILDIR_BAD_UID',
      });
    }
    expect(await readFile(path.join(root, 'victim'), 'utf8')).toBe('x');
  });

  it('reads an empty or missing mailbox as empty', async () => {
    expect(await collect(new MaildirInbox(root, 'nobody@example.test'))).toEqual([]);
  });
});

describe('Maildir names', () => {
  it('are unique and sort in delivery order', () => {
    const names = Array.from({ length: 2000 }, () => uniqueName(10));
    expect(new Set(names).size).toBe(names.length);
    expect([...names].reverse().sort(compareArrival)).toEqual(names);
  });

  it('order names of other delivery agents by time, then microseconds', () => {
    const names = ['1700000001.M5P1.host', '1700000000.M999999P1.host', '1700000000.M20P1.host', 'junk'];
    expect([...names].sort(compareArrival)).toEqual(['1700000000.M20P1.host', '1700000000.M999999P1.host', '1700000001.M5P1.host', 'junk']);
  });
});
