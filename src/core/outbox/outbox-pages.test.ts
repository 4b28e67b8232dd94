// The outbox read page by page (pendingPages, docs/state.md#outbox) and flushed as it is read
// (sendItems with an iterator): a real store in a temp dir, a sender that records. The pages
// give exactly the queued items in seq order (none held, ended or sent), an item tried and
// left queued is not met twice in one pass, and the flush's result keeps no mail bytes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, RdsError, TransientError } from '../errors.js';
import { silentLogger } from '../logger.js';
import type { Envelope, MailSender } from '../mail/types.js';
import { type Db, openDb } from '../store/db.js';
import { dropItem, enqueue, holdRolloutMail, type OutboxItem, pendingOutbox, pendingPages } from './outbox.js';
import { sendItems } from './send.js';

const clock = { now: () => new Date('2026-12-07T12:00:00Z') };
let dir: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-outbox-pages-'));
  db = openDb(dir);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const queue = (n: number, extra: { rolloutId?: string } = {}) =>
  Array.from(
    { length: n },
    (_, i) =>
      enqueue(
        db,
        {
          messageId: `<m${i}-${extra.rolloutId ?? ''}@x.test>`,
          kind: 'version-request',
          envelope: { from: 'h@x.test', to: [`a${i}@x.test`] },
          raw: Buffer.from(`mail ${i}`),
          ...extra,
        },
        clock.now(),
      ) as number,
  );

async function all(it: AsyncIterable<OutboxItem>): Promise<number[]> {
  const out: number[] = [];
  for await (const item of it) out.push(item.seq);
  return out;
}

describe('pendingPages', () => {
  it.each([1, 2, 3, 256])('gives the queued items in seq order, pages of %i', async (size) => {
    const seqs = queue(7);
    dropItem(db, seqs[2] as number, 'test', clock.now());
    queue(2, { rolloutId: 'R1' });
    holdRolloutMail(db, 'R1', true, clock.now());
    expect(await all(pendingPages(db, size))).toEqual(pendingOutbox(db).map((i) => i.seq));
    expect(await all(pendingPages(db, size))).toEqual(seqs.filter((_, i) => i !== 2));
  });

  it('an empty outbox gives nothing', async () => {
    expect(await all(pendingPages(db, 2))).toEqual([]);
  });
});

describe('sendItems over pages', () => {
  it('sends every queued item once, and the result holds no mail bytes', async () => {
    queue(9);
    const got: string[] = [];
    const sender: MailSender = { sendRaw: async (_e: Envelope, raw: Buffer) => void got.push(raw.toString()), close: async () => {} };
    const result = await sendItems(db, sender, pendingPages(db, 2), { logger: silentLogger, clock });
    expect(got.sort()).toEqual(Array.from({ length: 9 }, (_, i) => `mail ${i}`).sort());
    expect(result.sent).toHaveLength(9);
    expect(result.sent.every((i) => i.raw === null && i.compose === null)).toBe(true);
    expect(pendingOutbox(db)).toEqual([]);
  });

  it('an item refused and left queued is tried once in the pass, the rest go on', async () => {
    queue(5);
    const tries = new Map<string, number>();
    const sender: MailSender = {
      sendRaw: async (e: Envelope) => {
        const to = e.to[0] as string;
        tries.set(to, (tries.get(to) ?? 0) + 1);
        if (to === 'a1@x.test') throw new RdsError('SMTP_REFUSED', 'refused this once', EXIT.FAILED);
      },
      close: async () => {},
    };
    const result = await sendItems(db, sender, pendingPages(db, 2), { logger: silentLogger, clock });
    expect(tries.get('a1@x.test')).toBe(1);
    expect(result.sent).toHaveLength(4);
    expect(pendingOutbox(db).map((i) => i.envelope.to[0])).toEqual(['a1@x.test']);
  });

  it('a server that stops the flush leaves the rest queued', async () => {
    queue(6);
    const sender: MailSender = {
      sendRaw: async () => {
        throw new TransientError('SMTP_UNREACHABLE', 'down');
      },
      close: async () => {},
    };
    const result = await sendItems(db, sender, pendingPages(db, 2), { logger: silentLogger, clock });
    expect(result.stopped?.code).toBe('SMTP_UNREACHABLE');
    expect(pendingOutbox(db)).toHaveLength(6);
  });
});
