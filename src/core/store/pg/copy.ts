import type { Db } from '../types.js';
import { ROWID_TABLES } from './ddl.js';
import { GENERATED_KEYS } from './dialect.js';
import type { PgDb } from './pg-db.js';

/** One table of `rds store migrate`: rows in the SQLite source and in PostgreSQL after the copy. */
export interface TableCount {
  table: string;
  source: number;
  target: number;
}

export class CopyError extends Error {
  constructor(
    readonly code: 'TARGET_NOT_EMPTY' | 'COUNT_MISMATCH' | 'SCHEMA_MISMATCH',
    message: string,
    readonly counts: TableCount[] = [],
  ) {
    super(message);
  }
}

const BATCH_PARAMS = 30_000; // PostgreSQL takes at most 65,535 parameters in one statement

function q(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The SQLite source's tables in creation order (a referenced table before the one that references it). */
function sourceTables(source: Db): string[] {
  return (
    source.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid").all() as {
      name: string;
    }[]
  )
    .map((r) => r.name)
    .filter((n) => n !== 'schema_migrations');
}

function count(db: Db, table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${q(table)}`).get() as { n: number }).n;
}

function checkSchemas(source: Db, target: PgDb): void {
  const versions = (db: Db) =>
    (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version).join(',');
  if (versions(source) !== versions(target)) {
    throw new CopyError('SCHEMA_MISMATCH', 'the SQLite store and PostgreSQL are at different schema versions: run the same rds on both');
  }
}

function copyTable(source: Db, target: PgDb, table: string): void {
  const columns = (source.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name);
  const withRowid = ROWID_TABLES.includes(table);
  const all = withRowid ? [...columns, 'rowid'] : columns;
  const select = `SELECT ${columns.map(q).join(', ')}${withRowid ? ', rowid AS rowid' : ''} FROM ${q(table)} ORDER BY rowid`;
  const perBatch = Math.max(1, Math.floor(BATCH_PARAMS / all.length));
  let batch: unknown[][] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const values = batch.map((_, r) => `(${all.map((__, c) => `$${r * all.length + c + 1}`).join(', ')})`).join(', ');
    target.send(`INSERT INTO ${q(table)} (${all.map(q).join(', ')}) VALUES ${values}`, batch.flat());
    batch = [];
  };
  for (const row of source.prepare(select).iterate() as IterableIterator<Record<string, unknown>>) {
    batch.push(all.map((c) => row[c] ?? null));
    if (batch.length >= perBatch) flush();
  }
  flush();
}

/** The generated keys continue after the copied rows. */
function fixSequences(target: PgDb): void {
  const keys: [string, string][] = [...Object.entries(GENERATED_KEYS), ...ROWID_TABLES.map((t): [string, string] => [t, 'rowid'])];
  for (const [table, column] of keys) {
    target.send(
      `SELECT setval(pg_get_serial_sequence('${table}', '${column}'), COALESCE((SELECT max(${column}) FROM ${table}), 0) + 1, false)`,
    );
  }
}

/**
 * Copy a host's SQLite state into PostgreSQL (`rds store migrate --to URL`): every table,
 * in one transaction, the outbox's triggers off while rows go in as they are, the generated
 * keys continued, then the rows counted on both sides; any difference rolls everything back.
 * A target that holds rows is refused unless `force` (then emptied first, in the same transaction).
 */
export function copyToPostgres(source: Db, target: PgDb, force: boolean): TableCount[] {
  checkSchemas(source, target);
  const tables = sourceTables(source);
  const filled = tables.filter((t) => count(target, t) > 0);
  if (filled.length > 0 && !force) {
    throw new CopyError(
      'TARGET_NOT_EMPTY',
      `the PostgreSQL store is not empty (${filled.slice(0, 5).join(', ')} hold rows): --force replaces its contents`,
    );
  }
  return target
    .transaction(() => {
      if (filled.length > 0) target.send(`TRUNCATE ${tables.map(q).join(', ')} RESTART IDENTITY CASCADE`);
      for (const t of tables) target.send(`ALTER TABLE ${q(t)} DISABLE TRIGGER USER`);
      for (const t of tables) copyTable(source, target, t);
      for (const t of tables) target.send(`ALTER TABLE ${q(t)} ENABLE TRIGGER USER`);
      fixSequences(target);
      const counts = tables.map((table) => ({ table, source: count(source, table), target: count(target, table) }));
      const wrong = counts.filter((c) => c.source !== c.target);
      if (wrong.length > 0) {
        throw new CopyError(
          'COUNT_MISMATCH',
          `row counts differ after the copy (${wrong.map((w) => `${w.table} ${w.source}≠${w.target}`).join(', ')}): nothing was kept`,
          counts,
        );
      }
      return counts;
    })
    .immediate();
}
