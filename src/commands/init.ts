import fs from 'node:fs';
import path from 'node:path';
import { readSecret, writeConfig } from '../core/config/config.js';
import { fingerprintOf, generateKeyPair, writeSecretFile } from '../core/crypto/keys.js';
import { isRdsError, UsageError } from '../core/errors.js';
import { parseMailUrl, redactMailUrl } from '../core/mail/url.js';
import { parseVersion } from '../core/version/version.js';
import { loggerFor } from './context.js';
import type { CommandResult, GlobalOptions } from './types.js';

export interface InitOptions {
  role: 'agent' | 'host';
  id: string;
  address: string;
  smtp: string;
  imap: string;
  dir: string;
  hostAddress?: string;
  hostId: string;
  hostKey?: string;
  softwareVersion: string;
  romVersion?: string;
  installRoot?: string;
  tlsCa?: string;
  smtpPasswordFile?: string;
  imapPasswordFile?: string;
  /** the sample configs and the systemd units use /var/lib/rds/state, apart from /etc/rds */
  stateDir?: string;
}

export async function run(options: InitOptions, globals: GlobalOptions): Promise<CommandResult> {
  const dir = path.resolve(options.dir);
  const configFile = globals.config ? path.resolve(globals.config) : path.join(dir, 'config.json');
  if (fs.existsSync(configFile)) throw new UsageError('CONFIG_EXISTS', `config ${configFile} already exists; refusing to overwrite it`);
  checkMailUrl('--smtp', options.smtp, ['smtp', 'smtps', 'maildir']);
  checkMailUrl('--imap', options.imap, ['imap', 'imaps', 'maildir']);
  const stateDir = path.resolve(options.stateDir ?? path.join(dir, 'state'));
  const keyFile = path.join(dir, 'keys', 'private.asc');
  const common = {
    role: options.role,
    id: options.id,
    address: options.address,
    smtp: options.smtp,
    imap: options.imap,
    stateDir,
    keyFile,
    ...(options.tlsCa ? { tlsCa: path.resolve(options.tlsCa) } : {}),
    ...(options.smtpPasswordFile ? { smtpPasswordFile: path.resolve(options.smtpPasswordFile) } : {}),
    ...(options.imapPasswordFile ? { imapPasswordFile: path.resolve(options.imapPasswordFile) } : {}),
  };
  let config: Record<string, unknown> = common;
  let hostKeyArmored: string | undefined;
  let hostFingerprint: string | undefined;
  if (options.role === 'agent') {
    if (!options.hostAddress) throw new UsageError('MISSING_OPTION', 'an agent needs --host-address');
    if (!options.hostKey)
      throw new UsageError('MISSING_OPTION', "an agent needs --host-key (the host's public key, from `rds keys export` on the host)");
    parseVersion(options.softwareVersion, '--software-version');
    if (options.romVersion) parseVersion(options.romVersion, '--rom-version');
    const hostKey = await readHostKey(options.hostKey, options, globals);
    hostKeyArmored = hostKey.armored;
    hostFingerprint = hostKey.fingerprint;
    config = {
      ...common,
      hostId: options.hostId,
      hostAddress: options.hostAddress,
      hostKeyFile: path.join(dir, 'keys', 'host.asc'),
      installRoot: path.resolve(options.installRoot ?? path.join(dir, 'install')),
    };
  }
  const passphrase = readSecret(process.env.RDS_KEY_PASSPHRASE, undefined, 'key passphrase');
  const pair = await generateKeyPair(options.id, options.address, passphrase);
  await writeConfig(configFile, config);
  writeSecretFile(keyFile, pair.privateArmored);
  fs.writeFileSync(path.join(dir, 'keys', 'public.asc'), pair.publicArmored, { mode: 0o644 });
  if (hostKeyArmored) fs.writeFileSync(config.hostKeyFile as string, hostKeyArmored, { mode: 0o644 });

  const { openDb } = await import('../core/store/db.js');
  const db = openDb(stateDir);
  try {
    if (options.role === 'agent') {
      const { initInstallRoot } = await import('../core/install/layout.js');
      const { writeInstalled } = await import('../core/agent/installed.js');
      const release = initInstallRoot(config.installRoot as string, options.softwareVersion);
      writeInstalled(db, {
        softwareVersion: options.softwareVersion,
        ...(options.romVersion ? { romVersion: options.romVersion } : {}),
        release,
        updatedAt: new Date().toISOString(),
      });
    }
  } finally {
    db.close();
  }
  const lines = [
    `initialised ${options.role} ${options.id}`,
    `  config      ${configFile}`,
    `  key         ${pair.fingerprint}`,
    `  public key  ${path.join(dir, 'keys', 'public.asc')}`,
  ];
  if (hostFingerprint) {
    lines.push(`  host key    ${hostFingerprint} (pinned: compare it out of band with \`rds keys show\` on the host)`);
  }
  return {
    data: {
      role: options.role,
      id: options.id,
      config: configFile,
      fingerprint: pair.fingerprint,
      ...(hostFingerprint ? { hostKeyFingerprint: hostFingerprint } : {}),
    },
    text: lines.join('\n'),
  };
}

/**
 * The host key to pin: an OpenPGP key or a one-line error (exit 2). What is obviously not
 * the host's public key gets a `warn:` line: a private key (only its public part is pinned;
 * the file should not have left the host), or a key whose user ID is this agent's own.
 */
async function readHostKey(file: string, options: InitOptions, globals: GlobalOptions): Promise<{ armored: string; fingerprint: string }> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError('KEY_UNREADABLE', `--host-key: cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`, { cause: error });
  }
  const openpgp = await import('openpgp');
  let key: Awaited<ReturnType<typeof openpgp.readKey>>;
  try {
    key = await openpgp.readKey({ armoredKey: text });
  } catch {
    throw new UsageError(
      'BAD_KEY',
      `--host-key ${file} is not an armored OpenPGP public key; give the file \`rds keys export\` wrote on the host`,
    );
  }
  const logger = loggerFor(globals);
  if (key.isPrivate()) {
    logger.warn('--host-key is a private key: pinning only its public part; keep the private key on the host alone', { file });
  }
  const own = key.users.some(
    (u) => u.userID && (u.userID.email.toLowerCase() === options.address.toLowerCase() || u.userID.name === options.id),
  );
  if (own) logger.warn("--host-key names this agent's own id or address: is it the agent's key instead of the host's?", { file });
  const pub = key.toPublic();
  return { armored: pub.armor(), fingerprint: fingerprintOf(pub) };
}

/** Refuse a mail URL before anything is written: one line, the password shown as `***`. */
function checkMailUrl(option: string, text: string, schemes: string[]): void {
  let scheme: string;
  try {
    scheme = parseMailUrl(text).scheme;
  } catch (error) {
    if (isRdsError(error)) throw new UsageError(error.code, `${option}: ${error.message}`, { details: error.details });
    throw error;
  }
  if (!schemes.includes(scheme)) {
    throw new UsageError(
      'MAIL_URL_INVALID',
      `${option} takes ${schemes.map((s) => (s === 'maildir' ? 'maildir:///' : `${s}://`)).join(', ')}, not ${redactMailUrl(text)}`,
      { details: { url: redactMailUrl(text) } },
    );
  }
}
