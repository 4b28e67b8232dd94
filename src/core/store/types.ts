/**
 * The store as rds uses it: the subset of better-sqlite3's synchronous API that the code
 * calls, implemented by better-sqlite3 itself (the embedded store, `store: sqlite`) and by
 * the PostgreSQL adapter (`store: postgres://…`, src/core/store/pg/). Both block the caller
 * for each query, so the ~30 modules that read and write the store run unchanged on either.
 */
export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

// biome-ignore lint/suspicious/noExplicitAny: bound parameters are positional values or one object of named ones, as in better-sqlite3
export type BindParams = any[];

export interface Statement {
  run(...params: BindParams): RunResult;
  get(...params: BindParams): unknown;
  all(...params: BindParams): unknown[];
  iterate(...params: BindParams): IterableIterator<unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: as better-sqlite3's own types
type VariableArgFunction = (...params: any[]) => unknown;
type ArgumentTypes<F extends VariableArgFunction> = F extends (...args: infer A) => unknown ? A : never;

/** A function run in one transaction: as it is (deferred), or `.immediate()` (the writer's lock first). */
export interface Transaction<F extends VariableArgFunction> {
  (...params: ArgumentTypes<F>): ReturnType<F>;
  deferred(...params: ArgumentTypes<F>): ReturnType<F>;
  immediate(...params: ArgumentTypes<F>): ReturnType<F>;
  exclusive(...params: ArgumentTypes<F>): ReturnType<F>;
}

export interface Db {
  prepare(sql: string): Statement;
  exec(sql: string): unknown;
  transaction<F extends VariableArgFunction>(fn: F): Transaction<F>;
  close(): unknown;
  readonly inTransaction: boolean;
  readonly open: boolean;
  /** set by the PostgreSQL adapter; absent on better-sqlite3 (the embedded store) */
  readonly dialect?: 'postgres';
  /** PostgreSQL: a write sent with the transaction's next statement (pg-db.ts); use runLater (statement.ts) */
  defer?(sql: string, ...params: BindParams): void;
}

/** Which SQL a query must be written in: the few queries that differ pick with this. */
export function isPostgres(db: Db): boolean {
  return db.dialect === 'postgres';
}
