import { loadConfig, readSecret, requireRole, resolveConfigPath } from '../core/config/config.js';
import { checkConfigTrust } from '../core/config/trusted.js';
import { FailedError, UsageError } from '../core/errors.js';
import { checkTrusted } from '../core/fs/trust.js';
import { acquireLocks, RESOURCES } from '../core/store/lock.js';
import type { PgDb } from '../core/store/pg/pg-db.js';
import type { OptionsOf } from './specs/define.js';
import type { storeMigrate } from './specs/store.js';
import { formatTable } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

/** `rds store migrate --to URL`: the state dir's SQLite copied into PostgreSQL (core/store/pg/copy.ts), counts printed. */
export async function run(options: OptionsOf<typeof storeMigrate>, globals: GlobalOptions): Promise<CommandResult> {
  const configFile = resolveConfigPath(globals.config, process.env);
  checkTrusted([{ path: configFile, kind: 'file', what: 'config' }]);
  const config = requireRole(await loadConfig(configFile), 'host', 'store migrate');
  checkConfigTrust(config, configFile);
  if (config.store !== undefined && config.store !== 'sqlite') {
    throw new UsageError('STORE_NOT_SQLITE', `this host's store is already ${config.store} (the config's "store"): nothing to copy from`);
  }
  const { parseStoreUrl, describeStoreUrl } = await import('../core/store/pg/url.js');
  const where = describeStoreUrl(parseStoreUrl(options.to));
  const lock = await acquireLocks(config.stateDir, RESOURCES, 'store migrate');
  const { openDb } = await import('../core/store/db.js');
  const { openPgStore } = await import('../core/store/pg/open.js');
  const { copyToPostgres, CopyError } = await import('../core/store/pg/copy.js');
  const source = openDb(config.stateDir);
  try {
    const password = readSecret(process.env.RDS_STORE_PASSWORD, options.storePasswordFile ?? config.storePasswordFile, 'store password');
    const target = openPgStore({ url: options.to, ...(password ? { password } : {}), ...(config.tlsCa ? { tlsCa: config.tlsCa } : {}) });
    try {
      const counts = copyToPostgres(source, target as PgDb, options.force === true);
      const total = counts.reduce((n, c) => n + c.target, 0);
      const table = formatTable(
        ['Table', 'SQLite rows', 'PostgreSQL rows'],
        counts.map((c) => [c.table, String(c.source), String(c.target)]),
      );
      return {
        data: { to: where, tables: counts, rows: total },
        text: `${table}\ncopied ${total} row(s) in ${counts.length} tables to ${where}; the counts match.\nnext: set "store": "${options.to}" in ${configFile} (and storePasswordFile or RDS_STORE_PASSWORD), then run rds doctor`,
      };
    } catch (error) {
      if (error instanceof CopyError && error.code === 'COUNT_MISMATCH') throw new FailedError('STORE_COPY_MISMATCH', error.message);
      if (error instanceof CopyError) throw new UsageError(`STORE_${error.code}`, error.message);
      throw error;
    } finally {
      target.close();
    }
  } finally {
    source.close();
    lock.release();
  }
}
