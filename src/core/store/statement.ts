import type { Db, Statement } from './types.js';

const cache = new WeakMap<Db, Map<string, Statement>>();

/**
 * A prepared statement, compiled once per connection: the device passes and the host's
 * service pass run the same few queries hundreds of times.
 */
export function statement(db: Db, sql: string): Statement {
  let byDb = cache.get(db);
  if (!byDb) {
    byDb = new Map();
    cache.set(db, byDb);
  }
  let stmt = byDb.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    byDb.set(sql, stmt);
  }
  return stmt;
}

/**
 * A write whose result the caller does not need. On PostgreSQL inside a transaction it
 * travels with the transaction's next statement or its COMMIT, in that round trip, in
 * order (a failure fails that statement, and so the transaction, as it would have failed
 * here); anywhere else it runs now.
 */
export function runLater(db: Db, sql: string, ...params: unknown[]): void {
  if (db.defer && db.inTransaction) db.defer(sql, ...params);
  else statement(db, sql).run(...params);
}
