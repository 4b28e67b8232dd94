// The migration files and the list of migrations agree, so that a command may tell from the
// file names alone that every migration is applied (open.ts) and skip loading them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from './db.js';
import { MIGRATIONS } from './migrations.js';
import { migrationFileVersions, migrationsCurrent, openStateDb, openStateFile } from './sqlite-open.js';

describe('migrations: files and list', () => {
  it('each migration is registered in migrations.ts and lives in migrations/NNN-name.ts, NNN its version', () => {
    const files = migrationFileVersions(path.join(import.meta.dirname, 'migrations')) ?? [];
    expect([...files].sort((a, b) => a - b)).toEqual(MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
    expect(new Set(MIGRATIONS.map((m) => m.version)).size).toBe(MIGRATIONS.length);
  });

  it('openStateDb applies what is missing and, once current, says so from the file names', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-open-'));
    try {
      const versions = migrationFileVersions(path.join(import.meta.dirname, 'migrations'));
      const last = MIGRATIONS.at(-1) as (typeof MIGRATIONS)[number];
      // a store of the release before: every migration but the last applied
      const old = openStateFile(dir, (db) => {
        db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
        for (const m of MIGRATIONS.slice(0, -1)) {
          db.exec(m.sql);
          db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 'then');
        }
      });
      expect(migrationsCurrent(old, versions)).toBe(false);
      old.close();
      const db = await openStateDb(dir); // the last one is applied now
      expect(db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(last.version)).toBeDefined();
      expect(migrationsCurrent(db, versions)).toBe(true);
      expect(migrationsCurrent(db, [...(versions ?? []), 999])).toBe(false); // a file not applied
      db.close();
      const again = openDb(dir);
      expect(migrationsCurrent(again, versions)).toBe(true);
      again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
