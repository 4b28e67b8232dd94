// The migration files, the list of migrations and SCHEMA_VERSION agree, so that a command may
// tell from the store's user_version alone that every migration is applied (sqlite-open.ts)
// and skip loading them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Db, openDb } from './db.js';
import { MIGRATIONS } from './migrations.js';
import { openStateDb, openStateFile, SCHEMA_VERSION, schemaVersionOf } from './sqlite-open.js';

/** The versions the files in migrations/ name (`NNN-name.ts`). */
const fileVersions = () =>
  fs
    .readdirSync(path.join(import.meta.dirname, 'migrations'))
    .map((name) => /^(\d+)-[^.]+\.ts$/.exec(name))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]));

describe('migrations: files and list', () => {
  it('each migration is registered in migrations.ts and lives in migrations/NNN-name.ts, NNN its version', () => {
    const files = fileVersions();
    expect([...files].sort((a, b) => a - b)).toEqual(MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
    expect(new Set(MIGRATIONS.map((m) => m.version)).size).toBe(MIGRATIONS.length);
  });

  it('SCHEMA_VERSION is the newest migration, and the last of the list', () => {
    expect(SCHEMA_VERSION).toBe(Math.max(...fileVersions()));
    expect(MIGRATIONS.at(-1)?.version).toBe(SCHEMA_VERSION);
  });

  it('openStateDb applies what is missing, stamps user_version, and once stamped opens without the migrations', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-open-'));
    try {
      const last = MIGRATIONS.at(-1) as (typeof MIGRATIONS)[number];
      // a store of the release before: every migration but the last applied, never stamped
      const old = openStateFile(dir, (db) => {
        db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
        for (const m of MIGRATIONS.slice(0, -1)) {
          db.exec(m.sql);
          db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 'then');
        }
      });
      expect(schemaVersionOf(old)).toBe(0);
      old.close();
      const db = await openStateDb(dir); // the last one is applied now, and the store stamped
      expect(db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(last.version)).toBeDefined();
      expect(schemaVersionOf(db)).toBe(SCHEMA_VERSION);
      // a store a newer release migrated is not lowered
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      const again = openDb(dir);
      expect(schemaVersionOf(again)).toBe(SCHEMA_VERSION + 1);
      again.close();
      // stamped: the next open reads the pragma only, never schema_migrations (a row removed
      // behind its back is not put back), while an unstamped one goes through migrate again
      const rows = (db2: Db) => (db2.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n;
      const stamped = openStateFile(dir, (db2) =>
        db2.exec(`DELETE FROM schema_migrations WHERE version = ${last.version}; PRAGMA user_version = ${SCHEMA_VERSION}`),
      );
      stamped.close();
      const fast = await openStateDb(dir);
      expect(rows(fast)).toBe(MIGRATIONS.length - 1);
      fast.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(last.version, last.name, 'then');
      fast.exec('PRAGMA user_version = 0');
      fast.close();
      const slow = await openStateDb(dir); // unstamped: migrate runs (nothing missing) and stamps
      expect(rows(slow)).toBe(MIGRATIONS.length);
      expect(schemaVersionOf(slow)).toBe(SCHEMA_VERSION);
      slow.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
