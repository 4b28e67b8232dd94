// The PostgreSQL store's round trips (src/core/store/pg/pg-db.ts) against a real PostgreSQL:
// rds's queries run as prepared statements of the connection, still right after a failed
// one and a rolled-back transaction; a writer transaction opens and takes the writers' lock
// in one round trip, and when the lock is not granted it leaves no transaction behind; the
// lookups the inbox makes per mail find their index (migration 018).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addressInUse, agentsWithKeyAt, SIGNER_SQL } from '../../src/core/host/signer-lookup.js';
import { openPgStore } from '../../src/core/store/pg/open.js';
import { type PgDb, WRITER_LOCK_KEY } from '../../src/core/store/pg/pg-db.js';
import { runLater } from '../../src/core/store/statement.js';
import type { Db } from '../../src/core/store/types.js';
import { tempDir } from '../support/cli.js';
import { freshStore } from '../support/pg.js';

let db: Db;
let database: string;

beforeAll(async () => {
  if (process.env.RDS_TEST_STORE) throw new Error('test/pg makes its own stores: run it without RDS_TEST_STORE');
  const store = await freshStore(tempDir('rds-pg-queries-'));
  database = store.database;
  db = openPgStore({ url: store.url, password: store.password });
});

afterAll(() => db?.close());

const agent = (id: string, address: string) =>
  db
    .prepare('INSERT INTO agents (id, address, public_key, fingerprint, added_at) VALUES (?, ?, ?, ?, ?)')
    .run(id, address, 'KEY', `FP${id}`, '2026-12-07T00:00:00.000Z');

describe('prepared statements', () => {
  it('one statement runs again and again, after a failed statement and a rolled-back transaction', () => {
    const find = db.prepare('SELECT id FROM agents WHERE lower(address) = ? ORDER BY seq');
    agent('AGENT0000001', 'One@Example.TEST');
    expect(find.all('one@example.test')).toEqual([{ id: 'AGENT0000001' }]);
    expect(() => agent('AGENT0000001', 'dup@example.test')).toThrow(/duplicate key/); // UNIQUE(id)
    expect(find.all('one@example.test')).toEqual([{ id: 'AGENT0000001' }]);
    const failing = db.transaction(() => {
      agent('AGENT0000002', 'one@example.test');
      expect(find.all('one@example.test')).toHaveLength(2);
      throw new Error('undo');
    });
    expect(() => failing.immediate()).toThrow('undo');
    expect(db.inTransaction).toBe(false);
    expect(find.all('one@example.test')).toEqual([{ id: 'AGENT0000001' }]);
    const names = db.prepare("SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'rds_%'").get() as { n: number };
    expect(names.n).toBeGreaterThan(1);
  });
});

describe('writer transactions', () => {
  it('a writers’ lock not granted leaves no transaction open: the error, then the store works on', async () => {
    const holder = new pg.Client({
      host: '127.0.0.1',
      port: inject('pgPort'),
      user: inject('pgUser'),
      password: inject('pgPassword'),
      database, // advisory locks are per database
    });
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${WRITER_LOCK_KEY})`);
      db.exec("SET lock_timeout = '300ms'");
      const write = db.transaction(() => agent('AGENT0000003', 'three@example.test'));
      expect(() => write.immediate()).toThrow(/lock timeout/);
      expect(db.inTransaction).toBe(false);
      expect(db.prepare('SELECT count(*) AS n FROM agents WHERE id = ?').get('AGENT0000003')).toEqual({ n: 0 });
      await holder.query(`SELECT pg_advisory_unlock(${WRITER_LOCK_KEY})`);
      write.immediate();
      expect(db.prepare('SELECT count(*) AS n FROM agents WHERE id = ?').get('AGENT0000003')).toEqual({ n: 1 });
    } finally {
      db.exec('RESET lock_timeout');
      await holder.end();
    }
  });
});

describe('deferred writes', () => {
  it('a deferred write goes with the COMMIT; when it fails, the whole transaction is rolled back and the error thrown', async () => {
    const pgdb = db as PgDb;
    await pgdb.writeTransactionAsync(async () => {
      agent('AGENT0000004', 'four@example.test');
      pgdb.defer('UPDATE agents SET note = ? WHERE id = ?', 'deferred', 'AGENT0000004');
    });
    expect(db.prepare('SELECT note FROM agents WHERE id = ?').get('AGENT0000004')).toEqual({ note: 'deferred' });
    const failing = pgdb.writeTransactionAsync(async () => {
      agent('AGENT0000005', 'five@example.test');
      pgdb.defer(
        'INSERT INTO agents (id, address, public_key, fingerprint, added_at) VALUES (?, ?, ?, ?, ?)',
        'AGENT0000004',
        'x',
        'K',
        'F',
        'now',
      );
    });
    await expect(failing).rejects.toThrow(/duplicate key/);
    expect(db.inTransaction).toBe(false);
    expect(db.prepare('SELECT count(*) AS n FROM agents WHERE id = ?').get('AGENT0000005')).toEqual({ n: 0 });
    // nested: a savepoint begun and left without a statement, then work in the outer transaction
    db.transaction(() => {
      db.transaction(() => undefined)();
      agent('AGENT0000006', 'six@example.test');
    }).immediate();
    expect(db.prepare('SELECT count(*) AS n FROM agents WHERE id = ?').get('AGENT0000006')).toEqual({ n: 1 });
    expect(() => pgdb.defer('UPDATE agents SET note = ?', 'x')).toThrow(/needs a transaction/);
    // runLater: outside a transaction at once; inside, in order before the statement that follows it
    runLater(db, 'UPDATE agents SET note = ? WHERE id = ?', 'now', 'AGENT0000006');
    expect(db.prepare('SELECT note FROM agents WHERE id = ?').get('AGENT0000006')).toEqual({ note: 'now' });
    db.transaction(() => {
      runLater(db, 'UPDATE agents SET note = ? WHERE id = ?', 'later', 'AGENT0000006');
      expect(db.prepare('SELECT note FROM agents WHERE id = ?').get('AGENT0000006')).toEqual({ note: 'later' });
    }).immediate();
  });
});

describe('indexes (migration 018)', () => {
  it('the sender lookup by lower(address) and the fingerprint lookup use their index', () => {
    db.exec('SET enable_seqscan = off');
    try {
      const plan = (sql: string) =>
        (db.prepare(`EXPLAIN ${sql}`).all() as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n');
      expect(plan("SELECT * FROM agents WHERE lower(address) = 'x@example.test'")).toContain('agents_address');
      expect(plan("SELECT id FROM agents WHERE fingerprint = 'FP'")).toContain('agents_fingerprint');
      // the inbox's signer lookups (host/signer-lookup.ts), as the dialect sends them
      const literal = (sql: string) =>
        sql.replace('lower(address) = ?', "lower(address) = 'x@example.test'").replace('fingerprint = ?', "fingerprint = 'FP'");
      expect(plan(literal(SIGNER_SQL.addressInUse))).toContain('agents_address');
      expect(plan(literal(SIGNER_SQL.keyHolders))).toContain('agents_fingerprint');
    } finally {
      db.exec('RESET enable_seqscan');
    }
  });
});

describe("the inbox's signer lookups (host/signer-lookup.ts)", () => {
  it('an address in use or not; the key holder at that address only, compared by lower()', () => {
    agent('AGENT0000101', 'Signer@Example.TEST');
    expect(addressInUse(db, 'signer@example.test')).toBe(true);
    expect(addressInUse(db, 'nobody@example.test')).toBe(false);
    const held = { id: 'AGENT0000101', address: 'Signer@Example.TEST', armoredKey: 'KEY' };
    expect(agentsWithKeyAt(db, 'signer@example.test', 'FPAGENT0000101')).toEqual([held]);
    expect(agentsWithKeyAt(db, 'one@example.test', 'FPAGENT0000101')).toEqual([]);
    expect(agentsWithKeyAt(db, 'signer@example.test', 'FPNONE')).toEqual([]);
  });
});
