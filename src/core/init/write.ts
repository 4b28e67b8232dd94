import path from 'node:path';
import { readSecret, writeConfig } from '../config/config.js';
import type { RdsConfig } from '../config/schema.js';
import { trustedPathsOf } from '../config/trusted.js';
import { generateKeyPair, writeSecretFile } from '../crypto/keys.js';
import { checkTrusted, ensureOwnDir, replaceFileSafely } from '../fs/trust.js';
import type { Db } from '../store/db.js';

/** What `rds init` writes: the config (as given), where it goes, and on an agent the pinned key and the install root. */
export interface NodeFiles {
  id: string;
  address: string;
  configFile: string;
  config: Record<string, unknown> & { stateDir: string; keyFile: string; store?: string; storePasswordFile?: string; tlsCa?: string };
  /** where the public key is written for others to pin */
  publicKeyFile: string;
  agent?: {
    installRoot: string;
    hostKeyFile: string;
    hostKeyArmored: string;
    softwareVersion: string;
    romVersion?: string;
  };
}

/**
 * Write a new node: what rds will trust must be its own before anything is written (files
 * named by the options and the folders init creates or reuses; a reused folder with a
 * group/world-writable mode is fixed, one owned by another user refused), then the key pair,
 * the config, the keys, the state database and, on an agent, the install root with the
 * running version. Returns the key's fingerprint and what was fixed.
 */
export async function writeNode(node: NodeFiles): Promise<{ fingerprint: string; fixed: string[] }> {
  const { configFile, config, agent } = node;
  const fixed = [
    ensureOwnDir(path.dirname(configFile), 'config folder'),
    ensureOwnDir(path.dirname(config.keyFile), 'key folder'),
    ensureOwnDir(config.stateDir, 'state dir'),
    ...(agent ? [ensureOwnDir(agent.installRoot, 'install root')] : []),
  ].filter((note): note is string => note !== undefined);
  checkTrusted(trustedPathsOf(config as unknown as RdsConfig, configFile));
  const passphrase = readSecret(process.env.RDS_KEY_PASSPHRASE, undefined, 'key passphrase');
  // the store first: a PostgreSQL store that cannot be reached leaves no config behind
  const { openStore } = await import('../store/open.js');
  const db = await openStore({ ...config, role: agent ? 'agent' : 'host' });
  try {
    const pair = await generateKeyPair(node.id, node.address, passphrase);
    await writeConfig(configFile, config);
    writeSecretFile(config.keyFile, pair.privateArmored);
    replaceFileSafely(node.publicKeyFile, pair.publicArmored, 0o644);
    if (agent) replaceFileSafely(agent.hostKeyFile, agent.hostKeyArmored, 0o644);
    if (agent) await recordInstalled(db, agent);
    return { fingerprint: pair.fingerprint, fixed };
  } finally {
    db.close();
  }
}

/** The version the agent runs now, in a fresh install root and in the state database. */
async function recordInstalled(db: Db, agent: NonNullable<NodeFiles['agent']>): Promise<void> {
  const { initInstallRoot } = await import('../install/layout.js');
  const { writeInstalled } = await import('../install/installed.js');
  const release = initInstallRoot(agent.installRoot, agent.softwareVersion);
  writeInstalled(db, {
    softwareVersion: agent.softwareVersion,
    ...(agent.romVersion ? { romVersion: agent.romVersion } : {}),
    release,
    updatedAt: new Date().toISOString(),
  });
}
