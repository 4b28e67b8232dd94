import { MIGRATIONS } from './migrations.js';
import { openStateFile } from './sqlite-open.js';

export type { Db } from './types.js';

import type { Db } from './types.js';

/**
 * Open (creating if needed) the state database in `stateDir`: WAL so readers never block
 * the one writer, a busy timeout so concurrent cron passes wait instead of failing, and
 * numbered migrations applied once. (A command opens it through open.ts, which skips
 * loading the migrations when all are applied.)
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
}
