import { readSecret } from '../config/config.js';
import type { Db } from './types.js';

/** What picks a node's store: the state dir, and on a host the `store` setting (docs/deployment.md#postgresql). */
export interface StoreConfig {
  role?: string;
  stateDir: string;
  store?: string;
  storePasswordFile?: string;
  tlsCa?: string;
}

/**
 * Open the node's store: the state dir's SQLite (absent `store`, `sqlite`, every agent) or
 * the host's PostgreSQL (`store: postgres://…`), migrated to the current schema. Loaded
 * lazily: `rds --version` loads neither better-sqlite3 nor pg.
 */
export async function openStore(config: StoreConfig, env: NodeJS.ProcessEnv = process.env): Promise<Db> {
  if (config.role === 'agent' || config.store === undefined || config.store === 'sqlite') {
    // the migrations are loaded only when one is missing (sqlite-open.ts)
    const { openStateDb } = await import('./sqlite-open.js');
    return openStateDb(config.stateDir);
  }
  const { openPgStore } = await import('./pg/open.js');
  return openPgStore({
    url: config.store,
    password: readSecret(env.RDS_STORE_PASSWORD, config.storePasswordFile, 'store password'),
    ...(config.tlsCa ? { tlsCa: config.tlsCa } : {}),
  });
}
