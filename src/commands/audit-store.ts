/**
 * The node's audit store as the command runner (audit-hook.ts) and `rds audit` open it:
 * the config as a command reads it (trust checked first), the state database only when it
 * exists (the hook never creates a store), and the node's keys: the current one signs,
 * the current and retired ones (keys/retired/) verify.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import type { AuditInput } from '../core/audit/entry.js';
import { loadConfig, readSecret, resolveConfigPath } from '../core/config/config.js';
import type { RdsConfig } from '../core/config/schema.js';
import { checkConfigTrust } from '../core/config/trusted.js';
import { checkTrusted } from '../core/fs/trust.js';
import type { Db } from '../core/store/db.js';
import type { GlobalOptions } from './types.js';

export interface AuditStore {
  config: RdsConfig;
  db: Db;
  append(input: AuditInput, now: Date): void;
  checkpoint(now: Date): Promise<number | undefined>;
  close(): void;
}

export async function openAuditStore(globals: GlobalOptions): Promise<AuditStore | undefined> {
  const configFile = resolveConfigPath(globals.config, process.env);
  if (!fs.existsSync(configFile)) return undefined;
  checkTrusted([{ path: configFile, kind: 'file', what: 'config' }]);
  const config = await loadConfig(configFile);
  checkConfigTrust(config, configFile);
  if (!fs.existsSync(path.join(config.stateDir, 'state.db'))) return undefined;
  const { openStateDb } = await import('../core/store/open.js');
  const { appendAudit, auditHead, lastCheckpointCount, setAuditNode } = await import('../core/audit/store.js');
  const db = await openStateDb(config.stateDir);
  setAuditNode(config.id);
  return {
    config,
    db,
    append: (input, now) => {
      appendAudit(db, input, now);
    },
    checkpoint: async (now) => {
      if (auditHead(db).count <= lastCheckpointCount(db)) return undefined;
      const { readPrivateKeyFile } = await import('../core/crypto/keys.js');
      const { writeCheckpoint } = await import('../core/audit/checkpoint.js');
      const passphrase = readSecret(process.env.RDS_KEY_PASSPHRASE, config.keyPassphraseFile, 'key passphrase');
      return writeCheckpoint(db, await readPrivateKeyFile(config.keyFile, passphrase), config.id, now);
    },
    close: () => db.close(),
  };
}

/** The public halves of the node's current and retired keys (no passphrase needed). */
export async function nodePublicKeys(config: RdsConfig): Promise<openpgp.PublicKey[]> {
  const openpgp = await import('openpgp');
  const retiredDir = path.join(path.dirname(config.keyFile), 'retired');
  const files = [config.keyFile, ...(fs.existsSync(retiredDir) ? fs.readdirSync(retiredDir).map((f) => path.join(retiredDir, f)) : [])];
  const keys: openpgp.PublicKey[] = [];
  for (const file of files) {
    const armoredKey = fs.readFileSync(file, 'utf8');
    keys.push((await openpgp.readPrivateKey({ armoredKey })).toPublic());
  }
  return keys;
}
