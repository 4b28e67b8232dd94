import fs from 'node:fs';
import { TransientError, UsageError } from '../../errors.js';
import type { Db } from '../types.js';
import { migratePg } from './migrate.js';
import { PgDb } from './pg-db.js';
import { type PgClientConfig, PostgresError, SyncPgClient } from './sync-client.js';
import { describeStoreUrl, parseStoreUrl, type StoreUrl } from './url.js';

export interface PgStoreOptions {
  /** the `store` URL of the config */
  url: string;
  /** from RDS_STORE_PASSWORD or storePasswordFile */
  password?: string;
  /** the config's `tlsCa`: a private CA the server's certificate is verified against */
  tlsCa?: string;
  /** apply the numbered migrations (default true) */
  migrate?: boolean;
}

export function pgClientConfig(url: StoreUrl, password: string | undefined, tlsCa: string | undefined): PgClientConfig {
  return {
    host: url.host,
    port: url.port,
    user: url.user,
    database: url.database,
    ...(password === undefined ? {} : { password }),
    ssl: url.tls ? { rejectUnauthorized: true, servername: url.host, ...(tlsCa ? { ca: fs.readFileSync(tlsCa, 'utf8') } : {}) } : false,
    connectionTimeoutMillis: 15_000,
  };
}

/**
 * Connect to the host's PostgreSQL store and bring its schema up to date. A failure is one
 * line naming the store (never the password): unreachable → exit 3 (try again), refused
 * login, unknown database, TLS → exit 2 (a config problem).
 */
export function openPgStore(options: PgStoreOptions): Db {
  const url = parseStoreUrl(options.url);
  const where = describeStoreUrl(url);
  let client: SyncPgClient;
  try {
    client = new SyncPgClient(pgClientConfig(url, options.password, options.tlsCa));
  } catch (error) {
    throw connectError(error, where, options.password);
  }
  const db = new PgDb(client);
  try {
    if (options.migrate !== false) migratePg(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

const CONFIG_SQLSTATE: Record<string, string> = {
  '28P01': 'the password was refused (RDS_STORE_PASSWORD or storePasswordFile)',
  '28000': 'the server refused this user or host (pg_hba.conf)',
  '3D000': 'the database does not exist (create it first)',
};

function connectError(error: unknown, where: string, password: string | undefined): Error {
  const raw = error instanceof Error ? error.message : String(error);
  const message = password ? raw.split(password).join('***') : raw;
  const code = (error as { code?: string }).code;
  if (error instanceof PostgresError && code && CONFIG_SQLSTATE[code]) {
    return new UsageError('STORE_REFUSED', `store ${where}: ${CONFIG_SQLSTATE[code]}`);
  }
  if (/certificate|self[- ]signed|SSL|TLS|hostname/i.test(message)) {
    return new UsageError(
      'STORE_TLS',
      `store ${where}: TLS failed (${message}); trust a private CA with tlsCa, or sslmode=disable for a loopback server`,
    );
  }
  if (/password authentication|SASL|no password|client password/i.test(message)) {
    return new UsageError('STORE_REFUSED', `store ${where}: login refused (${message}); set RDS_STORE_PASSWORD or storePasswordFile`);
  }
  if (error instanceof TransientError) return error;
  return new TransientError('STORE_UNREACHABLE', `store ${where} cannot be reached (${message}); try again`);
}
