import type * as openpgp from 'openpgp';
import { noteClosing, registerAuditSigner } from '../core/audit/signer.js';
import { type Clock, systemClock } from '../core/clock.js';
import { loadConfig, readSecret, requireRole, resolveConfigPath } from '../core/config/config.js';
import type { AgentConfig, HostConfig, RdsConfig } from '../core/config/schema.js';
import { checkConfigTrust } from '../core/config/trusted.js';
import { parseDuration } from '../core/duration.js';
import { checkTrusted, ensureOwnDir } from '../core/fs/trust.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { Db } from '../core/store/db.js';
import { type ContextLocks, contextLocks, type LockPlan } from './context-locks.js';
import { stderrIsJournal } from './journal.js';
import type { GlobalOptions } from './types.js';

export type { ContextLocks, LockPlan } from './context-locks.js';

/**
 * What every command starts from: the resolved config, the state database, a logger and
 * a clock; keys are read on first use. Opened at the edge, closed in `finally`.
 */
export interface Context<C extends RdsConfig = RdsConfig> {
  config: C;
  configFile: string;
  db: Db;
  logger: Logger;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  privateKey(): Promise<openpgp.PrivateKey>;
  publicKey(): Promise<openpgp.PublicKey>;
  skewMs: number;
  ttlMs: number;
  /** the resource locks of this command (docs/locks.md) */
  locks: ContextLocks;
  close(): void;
}

export function loggerFor(globals: GlobalOptions, level = 'info'): Logger {
  const at = globals.quiet ? 'error' : globals.verbose ? 'debug' : (level as 'info');
  return createLogger(at, undefined, { timestamps: !stderrIsJournal() });
}

/** The config a command that requires role R gets (requireRole checked it). */
type ConfigOf<R> = R extends 'agent' ? AgentConfig : R extends 'host' ? HostConfig : RdsConfig;

export async function openContext<R extends RdsConfig['role']>(
  globals: GlobalOptions,
  command: string,
  options: { role?: R; lock?: LockPlan } = {},
): Promise<Context<ConfigOf<R>>> {
  const env = process.env;
  const configFile = resolveConfigPath(globals.config, env);
  // the config decides what rds trusts: check it (and the folders above it) before reading it
  checkTrusted([{ path: configFile, kind: 'file', what: 'config' }]);
  const loaded = await loadConfig(configFile);
  const config = options.role ? requireRole(loaded, options.role, command) : loaded;
  checkConfigTrust(config, configFile);
  const logger = loggerFor(globals, config.logLevel);
  // a state dir that was missing at the check is made now and checked again: one that
  // another user made in between (a world-writable parent such as /tmp) is refused
  ensureOwnDir(config.stateDir, 'state dir');
  const { locks, whole: lock } = await contextLocks(config.stateDir, command, options.lock);
  const { openStore } = await import('../core/store/open.js');
  let db: Db;
  try {
    db = await openStore(config, env);
  } catch (error) {
    lock?.release();
    throw error;
  }
  let priv: Promise<openpgp.PrivateKey> | undefined;
  const passphrase = () => readSecret(env.RDS_KEY_PASSPHRASE, config.keyPassphraseFile, 'key passphrase');
  const keys = () => import('../core/crypto/keys.js');
  const privateKey = () => {
    priv ??= keys().then((k) => k.readPrivateKeyFile(config.keyFile, passphrase()));
    return priv;
  };
  registerAuditSigner(db, config.id, privateKey); // docs/audit.md#checkpoints
  return {
    config: config as ConfigOf<R>,
    configFile,
    db,
    logger,
    clock: globals.clock ?? systemClock,
    env,
    privateKey,
    publicKey: async () => (await privateKey()).toPublic(),
    skewMs: parseDuration(config.clockSkew ?? '5m', 'clockSkew'),
    ttlMs: parseDuration(config.messageTtl ?? '7d', 'messageTtl'),
    locks,
    close: () => {
      noteClosing(db); // the end of the command reopens the store only when this left entries unsigned
      db.close();
      lock?.release();
    },
  };
}
