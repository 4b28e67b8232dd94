import { createRequire } from 'node:module';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { TransientError } from '../../errors.js';

/** What the worker's one `pg` client connects with (password included: never logged). */
export interface PgClientConfig {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
  ssl: false | { rejectUnauthorized: true; ca?: string; servername?: string };
  connectionTimeoutMillis: number;
}

/** A statement sent ahead of another in its round trip (its result is not needed). */
export interface PgQueued {
  text: string;
  values?: unknown[];
  name?: string;
}

export interface PgResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/** The PostgreSQL error as it crossed the thread: message, SQLSTATE (`code`) and detail. */
export class PostgresError extends Error {
  override name = 'PostgresError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly detail: string | undefined,
  ) {
    super(message);
  }
}

/**
 * The worker: `pg` (node-postgres) with one connection. Each request runs one query (a named
 * one as a prepared statement of the connection) and
 * answers on the port, then wakes the caller blocked in Atomics.wait. int8 and numeric come
 * back as numbers and booleans as 1/0, as SQLite returns them; bytes as Uint8Array (a
 * Buffer does not survive the thread boundary as a Buffer).
 */
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const pg = require(workerData.pgPath);
const flag = new Int32Array(workerData.sab);
const port = workerData.port;
pg.types.setTypeParser(20, (v) => { const n = Number(v); return Number.isSafeInteger(n) ? n : BigInt(v); });
pg.types.setTypeParser(1700, (v) => Number(v));
pg.types.setTypeParser(700, (v) => Number(v));
pg.types.setTypeParser(16, (v) => (v === 't' ? 1 : 0));
let client;
function reply(msg) { port.postMessage(msg); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); }
function param(v) { return v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v; }
function one(m) {
  return m.values
    ? client.query(m.name ? { name: m.name, text: m.text, values: m.values.map(param) } : { text: m.text, values: m.values.map(param) })
    : client.query(m.text);
}
async function run(m) {
  if (!m.before) return one(m);
  // pipelined: written together, answered in order; the first failure is the answer
  const settled = await Promise.allSettled([...m.before.map(one), one(m)]);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled[settled.length - 1].value;
}
parentPort.on('message', async (m) => {
  try {
    if (m.op === 'connect') {
      client = new pg.Client({ ...workerData.config, pipeline: true });
      client.on('error', () => {});
      await client.connect();
      reply({ ok: true });
    } else if (m.op === 'end') {
      if (client) await client.end();
      reply({ ok: true });
    } else {
      const r = await run(m);
      const last = Array.isArray(r) ? r[r.length - 1] : r;
      reply({ ok: true, rows: last ? last.rows : [], rowCount: last ? last.rowCount || 0 : 0 });
    }
  } catch (e) {
    reply({ ok: false, error: { message: String(e && e.message || e), code: e && e.code, detail: e && e.detail } });
  }
});
`;

/** How long one query may block the caller before it is given up (the worker is then ended). */
const QUERY_WAIT_MS = 300_000;

/**
 * node-postgres, synchronously: the caller blocks in Atomics.wait while the worker thread
 * runs the query, like better-sqlite3 blocks on SQLite (the "synckit" pattern). One
 * connection, one query in flight.
 */
export class SyncPgClient {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private ended = false;

  constructor(config: PgClientConfig) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const pgPath = createRequire(import.meta.url).resolve('pg');
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: { pgPath, sab: this.flag.buffer, port: port2, config },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.unref();
    try {
      this.call({ op: 'connect' });
    } catch (error) {
      this.end();
      throw error;
    }
  }

  /**
   * One query (with values: extended protocol, one statement; without: may be several
   * statements, one round trip). `name`: a prepared statement of this connection, parsed and
   * planned by the server once and then only bound and run (the same name always with the
   * same text). `before`: statements written ahead of it in the same round trip (the connection pipelines: each answered in order); the first that fails is thrown,
   * and the query's own result is returned.
   */
  query(text: string, values?: unknown[], name?: string, before?: readonly PgQueued[]): PgResult {
    return this.call({ op: 'query', text, values, ...(name ? { name } : {}), ...(before?.length ? { before } : {}) }) as PgResult;
  }

  end(): void {
    if (this.ended) return;
    try {
      this.call({ op: 'end' }, 5_000);
    } catch {
      /* the connection is gone either way */
    } finally {
      this.ended = true;
      void this.worker.terminate();
      this.port.close();
    }
  }

  private call(message: Record<string, unknown>, waitMs = QUERY_WAIT_MS): unknown {
    if (this.ended) throw new TransientError('STORE_CLOSED', 'the PostgreSQL store is closed');
    Atomics.store(this.flag, 0, 0);
    this.worker.postMessage(message);
    if (Atomics.wait(this.flag, 0, 0, waitMs) === 'timed-out') {
      this.ended = true;
      void this.worker.terminate();
      throw new TransientError('STORE_TIMEOUT', `the PostgreSQL store did not answer within ${waitMs / 1000} s`);
    }
    const got = receiveMessageOnPort(this.port)?.message as
      | { ok: true; rows?: Record<string, unknown>[]; rowCount?: number }
      | { ok: false; error: { message: string; code?: string; detail?: string } }
      | undefined;
    if (!got) throw new TransientError('STORE_FAILED', 'the PostgreSQL worker answered nothing');
    if (!got.ok) throw new PostgresError(got.error.message, got.error.code, got.error.detail);
    return { rows: (got.rows ?? []).map(toBuffers), rowCount: got.rowCount ?? 0 };
  }
}

function toBuffers(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) {
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return row;
}
