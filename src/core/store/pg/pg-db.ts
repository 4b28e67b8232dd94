import type { Db, RunResult, Statement, Transaction } from '../types.js';
import { bindValues, type PgQuery, toPostgres } from './dialect.js';
import type { PgClientConfig, SyncPgClient } from './sync-client.js';

/**
 * The writers' lock of a PostgreSQL store: what `BEGIN IMMEDIATE` gives on SQLite (one
 * writer transaction at a time), taken by `.immediate()` transactions with
 * pg_advisory_xact_lock and released at COMMIT or ROLLBACK.
 */
export const WRITER_LOCK_KEY = 0x7264_7301; // 'rds' + 1
/** The lock migrations are applied under (pg_advisory_lock, session-wide). */
export const MIGRATION_LOCK_KEY = 0x7264_7302;

/**
 * One of rds's queries on PostgreSQL: a prepared statement of the connection (named once per
 * store, `rds_<n>`), so the server parses and plans it once, not on every call.
 */
class PgStatement implements Statement {
  constructor(
    private readonly db: PgDb,
    private readonly query: PgQuery,
    private readonly name: string,
  ) {}

  run(...params: unknown[]): RunResult {
    const r = this.exec(params);
    const key = this.query.returning && r.rows[0] ? r.rows[0][this.query.returning] : 0;
    return { changes: r.rowCount, lastInsertRowid: (key as number | bigint | undefined) ?? 0 };
  }

  get(...params: unknown[]): unknown {
    return this.exec(params).rows[0];
  }

  all(...params: unknown[]): unknown[] {
    return this.exec(params).rows;
  }

  private exec(params: unknown[]) {
    return this.db.client.query(this.query.text, bindValues(this.query, params), this.name);
  }

  iterate(...params: unknown[]): IterableIterator<unknown> {
    return this.all(...params)[Symbol.iterator]();
  }
}

/**
 * The store on PostgreSQL, behind the same synchronous Db interface as better-sqlite3: each
 * query is translated once (dialect.ts) and blocks the caller. Transactions are BEGIN /
 * COMMIT / ROLLBACK on the one connection, nested ones SAVEPOINTs; `.immediate()` also takes
 * the writers' lock, so code written for SQLite's one writer keeps its guarantee.
 */
export class PgDb implements Db {
  readonly dialect = 'postgres' as const;
  private readonly prepared = new Map<string, PgStatement>();
  private depth = 0;
  private closed = false;

  constructor(readonly client: SyncPgClient) {}

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  get open(): boolean {
    return !this.closed;
  }

  prepare(sql: string): Statement {
    let stmt = this.prepared.get(sql);
    if (!stmt) {
      stmt = new PgStatement(this, toPostgres(sql), `rds_${this.prepared.size + 1}`);
      this.prepared.set(sql, stmt);
    }
    return stmt;
  }

  /** SQL run as it is (PostgreSQL's own, several statements allowed): migrations, store tools. */
  exec(sql: string): this {
    this.client.query(sql);
    return this;
  }

  // biome-ignore lint/suspicious/noExplicitAny: as better-sqlite3's transaction()
  transaction<F extends (...args: any[]) => unknown>(fn: F): Transaction<F> {
    const run =
      (writer: boolean) =>
      // biome-ignore lint/suspicious/noExplicitAny: the wrapped function's arguments, passed through
      (...args: any[]): ReturnType<F> =>
        this.inTx(writer, () => fn(...args) as ReturnType<F>);
    const tx = run(false) as unknown as Transaction<F>;
    tx.deferred = run(false);
    tx.immediate = run(true);
    tx.exclusive = run(true);
    return tx;
  }

  close(): this {
    if (!this.closed) {
      this.closed = true;
      this.client.end();
    }
    return this;
  }

  /**
   * A writer transaction around async work on this one connection (the inbox's claim with
   * its act, src/core/message/claim.ts): as `.immediate()`, but the body may await (its
   * queries still block; nested `transaction()`s inside become savepoints).
   */
  async writeTransactionAsync<T>(body: () => Promise<T>): Promise<T> {
    const savepoint = this.begin(true);
    try {
      const result = await body();
      this.client.query(savepoint ? `RELEASE SAVEPOINT ${savepoint}` : 'COMMIT');
      return result;
    } catch (error) {
      this.rollback(savepoint);
      throw error;
    } finally {
      this.depth--;
    }
  }

  /**
   * BEGIN (nested: a SAVEPOINT) and, for a writer, the writers' lock, in one round trip; the
   * savepoint's name, if one. A failure between the two (the lock not granted) undoes the
   * BEGIN before it is thrown.
   */
  private begin(writer: boolean): string | undefined {
    const savepoint = this.depth > 0 ? `rds_sp${this.depth}` : undefined;
    const open = savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN';
    try {
      this.client.query(writer ? `${open}; SELECT pg_advisory_xact_lock(${WRITER_LOCK_KEY})` : open);
    } catch (error) {
      this.rollback(savepoint);
      throw error;
    }
    this.depth++;
    return savepoint;
  }

  private rollback(savepoint: string | undefined): void {
    try {
      this.client.query(savepoint ? `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}` : 'ROLLBACK');
    } catch {
      /* the connection failed (the server rolls back), or nothing was begun */
    }
  }

  private inTx<T>(writer: boolean, body: () => T): T {
    const savepoint = this.begin(writer);
    try {
      const result = body();
      if (result instanceof Promise) throw new TypeError('a transaction function must not be async');
      this.client.query(savepoint ? `RELEASE SAVEPOINT ${savepoint}` : 'COMMIT');
      return result;
    } catch (error) {
      this.rollback(savepoint);
      throw error;
    } finally {
      this.depth--;
    }
  }
}

export type { PgClientConfig };
