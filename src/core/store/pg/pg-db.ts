import type { Db, RunResult, Statement, Transaction } from '../types.js';
import { bindValues, type PgQuery, toPostgres } from './dialect.js';
import type { PgClientConfig, PgQueued, SyncPgClient } from './sync-client.js';

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

  /** This statement with its values, to be sent ahead of another (PgDb.defer). */
  queued(params: unknown[]): PgQueued {
    return { text: this.query.text, values: bindValues(this.query, params), name: this.name };
  }

  private exec(params: unknown[]) {
    return this.db.send(this.query.text, bindValues(this.query, params), this.name);
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
  /** BEGIN, SAVEPOINT, the writers' lock and deferred writes, not sent yet: they go ahead of the next statement, in its round trip */
  private pending: PgQueued[] = [];
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
    this.send(sql);
    return this;
  }

  /**
   * One query on the connection, in order after whatever this store has begun: the pending
   * BEGIN / SAVEPOINT / lock travel in the same round trip, ahead of it (their failure is
   * this query's). Store tools with SQL of their own (copy.ts) call it too.
   */
  send(text: string, values?: unknown[], name?: string) {
    const before = this.pending;
    this.pending = [];
    return this.client.query(text, values, name, before);
  }

  /**
   * A write whose result is not needed, in a transaction: sent ahead of the transaction's
   * next statement or its COMMIT, in that round trip; its failure fails that statement and
   * so the transaction (the inbox's claim outcome, claim.ts).
   */
  defer(sql: string, ...params: unknown[]): void {
    if (this.depth === 0) throw new TypeError('a deferred write needs a transaction');
    this.pending.push((this.prepare(sql) as PgStatement).queued(params));
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
      if (!this.unsent(savepoint)) this.send(savepoint ? `RELEASE SAVEPOINT ${savepoint}` : 'COMMIT');
      return result;
    } catch (error) {
      this.rollback(savepoint);
      throw error;
    } finally {
      this.depth--;
    }
  }

  /**
   * BEGIN (nested: a SAVEPOINT) and, for a writer, the writers' lock: sent with the
   * transaction's first statement, in its round trip (a lock not granted fails that
   * statement, and so the transaction). The savepoint's name, if one.
   */
  private begin(writer: boolean): string | undefined {
    const savepoint = this.depth > 0 ? `rds_sp${this.depth}` : undefined;
    this.pending.push({ text: savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN' });
    if (writer) this.pending.push({ text: `SELECT pg_advisory_xact_lock(${WRITER_LOCK_KEY})` });
    this.depth++;
    return savepoint;
  }

  /** Whether this level's BEGIN / SAVEPOINT was never sent (nothing ran in it): then it is dropped, with what followed it. */
  private unsent(savepoint: string | undefined): boolean {
    const opener = savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN';
    const at = this.pending.findIndex((q) => q.text === opener);
    if (at < 0 || this.pending.slice(at).some((q) => q.values !== undefined)) return false; // a deferred write is work
    this.pending = this.pending.slice(0, at);
    return true;
  }

  private rollback(savepoint: string | undefined): void {
    if (this.unsent(savepoint)) return;
    try {
      this.send(savepoint ? `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}` : 'ROLLBACK');
    } catch {
      /* the connection failed: the server rolls back */
    }
  }

  private inTx<T>(writer: boolean, body: () => T): T {
    const savepoint = this.begin(writer);
    try {
      const result = body();
      if (result instanceof Promise) throw new TypeError('a transaction function must not be async');
      if (!this.unsent(savepoint)) this.send(savepoint ? `RELEASE SAVEPOINT ${savepoint}` : 'COMMIT');
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
