import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/db.js';

const cache = new WeakMap<Db, Map<string, Statement>>();

/** A prepared statement, compiled once per connection: passes run the same few hundreds of times. */
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
