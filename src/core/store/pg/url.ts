/**
 * The host's `store` setting (docs/deployment.md#postgresql): absent or `sqlite` → the
 * state dir's SQLite; `postgres://USER@HOST:PORT/DB[?sslmode=MODE]` → PostgreSQL. TLS as
 * for mail: verified (`verify-full`, the default) with the system CAs or the config's
 * `tlsCa`; `sslmode=disable` is for a loopback server only. The password is never in the
 * URL (the config would hold a secret): it comes from RDS_STORE_PASSWORD or
 * `storePasswordFile`. Errors name the URL without any password.
 */
import { UsageError } from '../../errors.js';

export interface StoreUrl {
  host: string;
  port: number;
  user: string;
  database: string;
  tls: boolean;
}

const EXAMPLE = 'postgres://rds@db.example.com:5432/rds';

function bad(why: string): UsageError {
  return new UsageError('BAD_STORE_URL', `store URL is not valid: ${why} (example: ${EXAMPLE})`);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function parseStoreUrl(text: string): StoreUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('it cannot be parsed');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw bad(`scheme ${url.protocol} is not postgres://`);
  if (url.password) throw bad('it holds a password: set RDS_STORE_PASSWORD or storePasswordFile instead');
  if (!url.username) throw bad('it names no user');
  if (!url.hostname) throw bad('it names no host');
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) throw bad('it names no database (one path segment)');
  if (url.hash) throw bad('a #fragment is not allowed');
  const params = [...url.searchParams.keys()];
  const unknown = params.find((k) => k !== 'sslmode');
  if (unknown) throw bad(`unknown parameter '${unknown}' (only sslmode)`);
  const mode = url.searchParams.get('sslmode') ?? 'verify-full';
  if (mode !== 'verify-full' && mode !== 'disable') throw bad(`sslmode=${mode} (verify-full, or disable for a loopback server)`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (mode === 'disable' && !isLoopback(host)) throw bad(`sslmode=disable is for a loopback server only, not ${host}`);
  return {
    host,
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username),
    database,
    tls: mode !== 'disable',
  };
}

/** The URL as it may be shown (it never holds a password). */
export function describeStoreUrl(url: StoreUrl): string {
  const host = url.host.includes(':') ? `[${url.host}]` : url.host;
  return `postgres://${encodeURIComponent(url.user)}@${host}:${url.port}/${encodeURIComponent(url.database)}${url.tls ? '' : '?sslmode=disable'}`;
}

/** `sqlite` (or absent): the embedded store; anything else is a PostgreSQL URL. */
export function isSqliteStore(store: string | undefined): boolean {
  return store === undefined || store === 'sqlite';
}
