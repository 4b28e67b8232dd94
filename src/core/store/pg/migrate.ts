import { MIGRATIONS } from '../migrations.js';
import { migrationToPostgres, PRELUDE } from './ddl.js';
import { MIGRATION_LOCK_KEY, type PgDb } from './pg-db.js';

/**
 * The numbered migrations on PostgreSQL, each applied once in its own transaction, under a
 * session advisory lock: several host processes starting at once serialise here, and the
 * ones that wait find the work done.
 */
export function migratePg(db: PgDb): void {
  db.exec(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
  try {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    const triggers = new Map<string, string>();
    for (const migration of MIGRATIONS) {
      const sql = migrationToPostgres(migration, triggers); // every one, in order: later ones name earlier triggers
      if (applied.has(migration.version)) continue;
      db.transaction(() => {
        if (migration === MIGRATIONS[0]) db.exec(PRELUDE);
        db.exec(sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          migration.version,
          migration.name,
          new Date().toISOString(),
        );
      })();
    }
  } finally {
    db.exec(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
  }
}
