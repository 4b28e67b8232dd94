import { MIGRATIONS } from './migrations.js';
import { openStateFile, SCHEMA_VERSION, schemaVersionOf } from './sqlite-open.js';

export type { Db } from './types.js';

import type { Db } from './types.js';

/**
 * Open (creating if needed) the state database in `stateDir`: WAL so readers never block
 * the one writer, a busy timeout so concurrent cron passes wait instead of failing, and
 * numbered migrations applied once. (A command opens it through open.ts, which skips
 * loading the migrations when the store's user_version says all are applied.)
 */
export function openDb(stateDir: string): Db {
  return openStateFile(stateDir, migrate);
}

export function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    // IMMEDIATE: two processes migrating at once serialise here; the loser re-checks.
    const apply = db.transaction(() => {
      const again = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version);
      if (again) return;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        new Date().toISOString(),
      );
    });
    apply.immediate();
  }
  // every migration is applied now: stamp the store so that the next open reads one pragma
  // (sqlite-open.ts); never lowered (a store a newer release migrated stays as it is)
  const newest = Math.max(...MIGRATIONS.map((m) => m.version));
  if (newest !== SCHEMA_VERSION) throw new Error(`SCHEMA_VERSION (${SCHEMA_VERSION}) is not the newest migration (${newest})`);
  if (schemaVersionOf(db) < newest) db.exec(`PRAGMA user_version = ${newest}`);
}
