import fs from 'node:fs';
import type { RdsConfig } from '../config/schema.js';
import type { Db } from '../store/db.js';
import { type Check, fail, pass } from './check.js';

/** Can this user write into the state dir? A probe file, made and removed. */
export function stateCheck(config: RdsConfig): Check {
  const probe = `${config.stateDir}/.rds-doctor-${process.pid}`;
  try {
    fs.writeFileSync(probe, '', { mode: 0o600, flag: 'wx' });
    fs.rmSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(
      'state dir',
      `${config.stateDir} is not writable by this user (${code})`,
      code === 'ENOENT' ? `mkdir -m 700 ${config.stateDir} (rds init makes it)` : `chown this user ${config.stateDir}; chmod 700 it`,
    );
  }
  return pass('state dir', `${config.stateDir} is writable`);
}

/** The state database, opened (pending migrations applied), or a FAIL line. */
export async function openState(config: RdsConfig): Promise<{ check: Check; db?: Db }> {
  const pg = config.role === 'host' && config.store !== undefined && config.store !== 'sqlite';
  try {
    const { openStore } = await import('../store/open.js');
    const db = await openStore(config);
    return {
      check: pass('state database', pg ? `PostgreSQL store ${storeName(config.store)} opens` : `${config.stateDir}/state.db opens`),
      db,
    };
  } catch (error) {
    if (pg) {
      const hint = 'check the server, the store URL, RDS_STORE_PASSWORD or storePasswordFile, and tlsCa';
      return { check: fail('state database', (error as Error).message, hint) };
    }
    return {
      check: fail(
        'state database',
        `${config.stateDir}/state.db: ${(error as Error).message}`,
        'check its owner and mode; restore it from the backup',
      ),
    };
  }
}

/** The store URL as shown (it never holds a password: parseStoreUrl refuses one). */
function storeName(store: string | undefined): string {
  return (store ?? '').replace(/\/\/[^@/]*:[^@/]*@/, '//***@');
}
