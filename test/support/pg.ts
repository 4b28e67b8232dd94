// The test PostgreSQL (test/support/postgres.ts) as tests use it: a fresh database per
// host, its store URL and a password file (mode 0600) for `rds init --store`.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestStore {
  url: string;
  database: string;
  password: string;
  passwordFile: string;
}

/** Whether this run re-runs the host tests on PostgreSQL (the `cli-pg` project sets it). */
export function onPostgres(): boolean {
  return process.env.RDS_TEST_STORE === 'postgres';
}

export async function adminQuery(sql: string, database = 'postgres'): Promise<pg.QueryResult> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: inject('pgPort'),
    user: inject('pgUser'),
    password: inject('pgPassword'),
    database,
  });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new empty database; the password file is written into DIR. */
export async function freshStore(dir: string): Promise<TestStore> {
  const database = `rds_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${database}`);
  const password = inject('pgPassword');
  const passwordFile = path.join(dir, 'store-password');
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  return {
    url: `postgres://${inject('pgUser')}@127.0.0.1:${inject('pgPort')}/${database}?sslmode=disable`,
    database,
    password,
    passwordFile,
  };
}
