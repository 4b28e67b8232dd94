import path from 'node:path';
import { UsageError } from '../errors.js';
import { parseStoreUrl } from '../store/pg/url.js';

/** `rds init --store URL [--store-password-file FILE]`: a host's PostgreSQL store, checked before anything is written. */
export function storeSettings(options: { role: string; store?: string; storePasswordFile?: string }): {
  store?: string;
  storePasswordFile?: string;
} {
  if (options.store === undefined || options.store === 'sqlite') {
    if (options.storePasswordFile) throw new UsageError('BAD_OPTION', '--store-password-file needs --store postgres://…');
    return {};
  }
  if (options.role !== 'host') throw new UsageError('BAD_OPTION', '--store is for a host: an agent keeps its state in its state dir');
  parseStoreUrl(options.store);
  return {
    store: options.store,
    ...(options.storePasswordFile ? { storePasswordFile: path.resolve(options.storePasswordFile) } : {}),
  };
}
