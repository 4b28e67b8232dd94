/**
 * The SQLite state database as a command opens it (open.ts's openStore, for agents and
 * SQLite hosts): like openDb (db.ts), but when every migration is applied already, the
 * common case, without loading the migrations: migrate (db.ts) records the newest version
 * it applied in the database's `PRAGMA user_version`, and one read of it, compared with
 * SCHEMA_VERSION, tells that nothing is missing. Anything behind (an older store, one
 * never stamped) takes db.ts's path, which applies what is missing and stamps it.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { TransientError } from '../errors.js';
import type { Db } from './types.js';

type SqliteDb = BetterSqlite3.Database;

/**
 * better-sqlite3 is CommonJS: required through Node's CommonJS loader, not imported, since an
 * ESM import of a CommonJS package first scans its source for its export names (a few
 * milliseconds of every command that opens the store; issue 13).
 */
const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as typeof BetterSqlite3;

/**
 * The addon better-sqlite3 builds (build/Release/better_sqlite3.node), named to it directly:
 * its own search (the `bindings` package: a stack trace taken, several paths tried, each
 * miss a thrown error) runs only when the addon is not there (a Debug build, say).
 */
function nativeBinding(): { nativeBinding?: string } {
  const addon = path.join(path.dirname(require.resolve('better-sqlite3')), '..', 'build', 'Release', 'better_sqlite3.node');
  return fs.existsSync(addon) ? { nativeBinding: addon } : {};
}

/**
 * The newest migration's version (migrations.ts; migrations.test.ts checks they agree):
 * a store whose user_version is this or above has every migration applied.
 */
export const SCHEMA_VERSION = 18;

/** Open `stateDir/state.db` with rds's settings (WAL, busy timeout, foreign keys); `then` runs on it before it is returned. */
export function openStateFile(stateDir: string, then: (db: SqliteDb) => void): SqliteDb {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, 'state.db');
  // the busy timeout (15 s) is set as the connection opens, before anything may wait
  const db = new Database(file, { timeout: 15_000, ...nativeBinding() });
  try {
    fs.chmodSync(file, 0o600);
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON');
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

/** The schema version the store records (migrate in db.ts stamps it); 0 when never stamped. */
export function schemaVersionOf(db: Db): number {
  return Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
}

/** openDb (db.ts) for a command: the migrations are loaded only when one is missing. */
export async function openStateDb(stateDir: string): Promise<Db> {
  let current = false;
  const db = openStateFile(stateDir, (opened) => {
    current = schemaVersionOf(opened) >= SCHEMA_VERSION;
  });
  if (current) return db;
  db.close();
  const { openDb } = await import('./db.js');
  return openDb(stateDir);
}
