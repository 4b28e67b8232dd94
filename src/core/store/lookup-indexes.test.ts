// Migration 018 on SQLite: the inbox's sender lookup (lower(address)) and a registration's
// fingerprint check find their index instead of scanning every agent (test/pg/queries.test.ts
// checks the same on PostgreSQL).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNER_SQL } from '../host/signer-lookup.js';
import type { Db } from './db.js';
import { openStateDb } from './sqlite-open.js';

let dir: string;
let db: Db;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-indexes-'));
  db = await openStateDb(dir);
});

afterAll(() => {
  db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const plan = (sql: string) =>
  (
    db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(
      ...sql
        .split('?')
        .slice(1)
        .map(() => 'x'),
    ) as { detail: string }[]
  )
    .map((r) => r.detail)
    .join('\n');

describe('lookup indexes', () => {
  it('lower(address) and fingerprint are searched through agents_address and agents_fingerprint', () => {
    expect(plan('SELECT * FROM agents WHERE lower(address) = ? ORDER BY seq')).toContain('USING INDEX agents_address');
    expect(plan('SELECT id FROM agents WHERE fingerprint = ?')).toContain('USING INDEX agents_fingerprint');
  });

  it("the inbox's signer lookups (host/signer-lookup.ts): the address by agents_address, the key holder by agents_fingerprint", () => {
    expect(plan(SIGNER_SQL.addressInUse)).toContain('INDEX agents_address');
    expect(plan(SIGNER_SQL.keyHolders)).toContain('USING INDEX agents_fingerprint');
  });
});
