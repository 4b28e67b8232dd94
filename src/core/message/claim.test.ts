import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../crypto/keys.js';
import { REFUSAL, SecurityError } from '../errors.js';
import { silentLogger } from '../logger.js';
import type { InboxMessage, MailInbox, Settlement } from '../mail/types.js';
import { type Db, openDb } from '../store/db.js';
import { actOnce, lookUpClaim, processedElsewhere } from './claim.js';
import { type ReceiveResult, receiveMessages } from './inbound.js';
import { composeMail } from './mail.js';
import { buildPayload, signPayload } from './payload.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-claim-'));
  db = openDb(dir);
  db.exec('CREATE TABLE effects (id TEXT NOT NULL)');
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const claim = (location: string, id = 'P1') => ({
  id,
  type: 'version-report',
  sender: 'A1',
  location,
  now: new Date('2026-12-07T10:00:00Z'),
});
const effects = () => (db.prepare('SELECT count(*) AS n FROM effects').get() as { n: number }).n;
/** an act whose effect is a row written through the same connection after an await (as a handler's queued ack) */
const act = (outcome = 'stored') => {
  let runs = 0;
  const fn = async () => {
    runs++;
    await Promise.resolve();
    db.prepare('INSERT INTO effects (id) VALUES (?)').run('P1');
    return outcome;
  };
  return { fn, runs: () => runs };
};

describe('actOnce', () => {
  it('acts once, records the outcome and the location with the id', async () => {
    const a = act('stored');
    expect(await actOnce(db, claim('17'), a.fn)).toEqual({ kind: 'acted', outcome: 'stored' });
    expect(db.prepare('SELECT outcome, location FROM processed_messages WHERE id = ?').get('P1')).toEqual({
      outcome: 'stored',
      location: '17',
    });
    expect(effects()).toBe(1);
    expect(db.inTransaction).toBe(false);
  });

  it('the same mail met again (same location) is done before: nothing runs', async () => {
    await actOnce(db, claim('17'), act().fn);
    const again = act();
    expect(await actOnce(db, claim('17'), again.fn)).toEqual({ kind: 'done-before', claimedAt: '2026-12-07T10:00:00.000Z' });
    expect(again.runs()).toBe(0);
    expect(effects()).toBe(1);
  });

  it('another copy of a processed payload is REPLAYED: nothing runs', async () => {
    await actOnce(db, claim('17'), act().fn);
    const copy = act();
    const error = await actOnce(db, claim('18'), copy.fn).catch((e: unknown) => e);
    expect((error as SecurityError).code).toBe(REFUSAL.REPLAYED);
    expect(copy.runs()).toBe(0);
    expect(effects()).toBe(1);
    expect(processedElsewhere(db, 'P1', '18')).toBe(true);
    expect(processedElsewhere(db, 'P1', '17')).toBe(false);
  });

  it('with the ledger row the replay check read (looked): decided from it, and a claim committed since is still met', async () => {
    await actOnce(db, claim('17'), act().fn);
    const seenHere = act();
    expect(await actOnce(db, claim('17'), seenHere.fn, { seen: lookUpClaim(db, 'P1') })).toEqual({
      kind: 'done-before',
      claimedAt: '2026-12-07T10:00:00.000Z',
    });
    expect(seenHere.runs()).toBe(0);
    // read as not processed, then another worker's claim committed: the insert loses, nothing runs
    const late = act();
    expect(await actOnce(db, claim('17'), late.fn, { seen: undefined })).toEqual({
      kind: 'done-before',
      claimedAt: '2026-12-07T10:00:00.000Z',
    });
    const copy = act();
    const error = await actOnce(db, claim('18'), copy.fn, { seen: undefined }).catch((e: unknown) => e);
    expect((error as SecurityError).code).toBe(REFUSAL.REPLAYED);
    expect(late.runs() + copy.runs()).toBe(0);
    expect(effects()).toBe(1);
  });

  it('an act that fails rolls back its claim and its effects: the mail can be taken again', async () => {
    const failing = async () => {
      db.prepare('INSERT INTO effects (id) VALUES (?)').run('P1');
      await Promise.resolve();
      throw new SecurityError(REFUSAL.BAD_FIELD, 'bad body');
    };
    const error = await actOnce(db, claim('17'), failing).catch((e: unknown) => e);
    expect((error as SecurityError).code).toBe(REFUSAL.BAD_FIELD);
    expect(effects()).toBe(0);
    expect(db.prepare('SELECT 1 FROM processed_messages WHERE id = ?').get('P1')).toBeUndefined();
    expect(await actOnce(db, claim('17'), act().fn)).toEqual({ kind: 'acted', outcome: 'stored' });
  });

  it('inside a caller transaction it uses a savepoint: a lost claim leaves the caller transaction open', async () => {
    await actOnce(db, claim('17'), act().fn);
    db.exec('BEGIN IMMEDIATE');
    try {
      expect(await actOnce(db, claim('17'), act().fn)).toEqual({ kind: 'done-before', claimedAt: '2026-12-07T10:00:00.000Z' });
      expect(await actOnce(db, claim('20', 'P2'), act().fn)).toEqual({ kind: 'acted', outcome: 'stored' });
      expect(db.inTransaction).toBe(true);
    } finally {
      db.exec('COMMIT');
    }
    expect(effects()).toBe(2);
  });
});

describe('receiveMessages with claims (several workers)', () => {
  it('the same mail met again is moved without acting, or left to the worker that claimed it since this pass began; another copy is REPLAYED; a refusal met twice is recorded once', async () => {
    const pair = await generateKeyPair('A1', 'a1@example.test');
    const key = await openpgp.readPrivateKey({ armoredKey: pair.privateArmored });
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    const payload = buildPayload({ type: 'version-report', from: 'A1', to: ['HOST'], body: {}, ttlMs: 60_000, clock });
    const { raw } = await composeMail({
      from: 'a1@example.test',
      to: 'host@example.test',
      subject: 'report',
      text: '',
      type: 'version-report',
      payloadId: payload.id,
      armoredPayload: await signPayload(payload, key),
    });
    const stranger = Buffer.from('From: nobody@example.test\r\nMessage-ID: <x@example.test>\r\n\r\nhello');
    let acts = 0;
    const settled: [string, Settlement['kind']][] = [];
    const pass = (messages: InboxMessage[]): Promise<ReceiveResult> => {
      const inbox: MailInbox = {
        async *messages() {
          yield* messages;
        },
        async settle(m, st) {
          settled.push([m.uid, st.kind]);
        },
        async close() {},
      };
      return receiveMessages({
        db,
        inbox,
        maxMessageSize: 1_000_000,
        clock,
        logger: silentLogger,
        claims: true,
        handlers: {
          'version-report': async () => {
            acts++;
            return 'stored';
          },
        },
        policy: {
          selfId: 'HOST',
          sendersFor: (a) => (a === 'a1@example.test' ? [{ id: 'A1', address: a, key: key.toPublic() }] : []),
          unknownSenderCode: REFUSAL.UNKNOWN_SENDER,
          acceptBroadcast: false,
          wasProcessed: () => {
            throw new Error('with claims the ledger is asked by location');
          },
          clock,
          skewMs: 60_000,
        },
      });
    };
    const at = (uid: string, bytes: Buffer) => ({ uid, raw: bytes, size: bytes.length });
    const first = await pass([at('7', raw), at('9', stranger)]);
    expect(first.processed.map((p) => p.outcome)).toEqual(['stored']);
    expect(first.quarantined.map((q) => q.code)).toEqual([REFUSAL.UNKNOWN_SENDER]);
    // a worker that began at the same moment as the claim: the claimer moves the mail, not it
    const alongside = await pass([at('7', raw)]);
    expect(alongside.takenByOther).toEqual([{ id: payload.id, uid: '7' }]);
    expect(alongside.alreadyDone).toEqual([]);
    now += 1000; // a pass that began after the claim: the claimer is gone or done
    // a second worker that fetched the same two mails, then a copy of the report at another UID
    const second = await pass([at('7', raw), at('9', stranger), at('8', raw)]);
    expect(acts).toBe(1);
    expect(second.processed).toEqual([]);
    expect(second.alreadyDone).toEqual([{ id: payload.id, uid: '7' }]);
    expect(second.quarantined.map((q) => q.code)).toEqual([REFUSAL.REPLAYED]);
    expect((db.prepare('SELECT count(*) AS n FROM quarantine WHERE location = ?').get('9') as { n: number }).n).toBe(1);
    expect(settled).toEqual([
      ['7', 'processed'],
      ['9', 'quarantined'],
      ['7', 'processed'],
      ['9', 'quarantined'],
      ['8', 'quarantined'],
    ]);
  });
});
