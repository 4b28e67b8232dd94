/**
 * The SQLite state database as a command opens it (open.ts's openStore, for agents and
 * SQLite hosts): like
 * openDb (db.ts), but when every migration is applied already, the common case, without
 * loading the migrations: their numbers are read from the names of the files in
 * migrations/ (`NNN-name.js`, one per migration, NNN its version: migrations.test.ts
 * checks) and compared with the versions the database recorded. Anything missing, or
 * anything unexpected, takes db.ts's path, which applies what is missing.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type BetterSqlite3 from 'better-sqlite3';
import { TransientError } from '../errors.js';
import type { Db } from './types.js';

type SqliteDb = BetterSqlite3.Database;

/**
 * better-sqlite3 is CommonJS: required through Node's CommonJS loader, not imported, since an
 * ESM import of a CommonJS package first scans its source for its export names (a few
 * milliseconds of every command that opens the store; issue 13).
 */
const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

/** Open `stateDir/state.db` with rds's settings (WAL, busy timeout, foreign keys); `then` runs on it before it is returned. */
export function openStateFile(stateDir: string, then: (db: SqliteDb) => void): SqliteDb {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, 'state.db');
  const db = new Database(file);
  try {
    fs.chmodSync(file, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 15000');
    db.pragma('foreign_keys = ON');
    then(db);
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new TransientError('STATE_BUSY', `state database ${file} is busy; try again`, { cause: error });
    }
    throw error;
  }
  return db;
}

/** The migration versions the files in migrations/ name; undefined when the folder cannot be read. */
export function migrationFileVersions(dir = fileURLToPath(new URL('./migrations/', import.meta.url))): number[] | undefined {
  try {
    return fs
      .readdirSync(dir)
      .map((name) => /^(\d+)-[^.]+\.(js|ts)$/.exec(name))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]));
  } catch {
    return undefined;
  }
}

/** Every migration whose file is in migrations/ is recorded as applied. */
export function migrationsCurrent(db: Db, versions = migrationFileVersions()): boolean {
  if (!versions || versions.length === 0) return false;
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!table) return false;
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  return versions.every((v) => applied.has(v));
}

/** openDb (db.ts) for a command: the migrations are loaded only when one is missing. */
export async function openStateDb(stateDir: string): Promise<Db> {
  let current = false;
  const db = openStateFile(stateDir, (opened) => {
    current = migrationsCurrent(opened);
  });
  if (current) return db;
  db.close();
  const { openDb } = await import('./db.js');
  return openDb(stateDir);
}
