import fs from 'node:fs';
import path from 'node:path';
import { readSecret, writeConfig } from '../core/config/config.js';
import type { RdsConfig } from '../core/config/schema.js';
import { trustedPathsOf } from '../core/config/trusted.js';
import { fingerprintOf, generateKeyPair, writeSecretFile } from '../core/crypto/keys.js';
import { isRdsError, UsageError } from '../core/errors.js';
import { checkTrusted, ensureOwnDir, replaceFileSafely } from '../core/fs/trust.js';
import { parseInstallWindow } from '../core/install/window.js';
import { parseMailUrl, redactMailUrl } from '../core/mail/url.js';
import { parseVersion } from '../core/version/version.js';
import { loggerFor } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { init } from './specs/shared.js';
import type { CommandResult, GlobalOptions } from './types.js';

export type InitOptions = OptionsOf<typeof init>;

export async function run(options: InitOptions, globals: GlobalOptions): Promise<CommandResult> {
  const dir = path.resolve(options.dir);
  const configFile = globals.config ? path.resolve(globals.config) : path.join(dir, 'config.json');
  if (fs.existsSync(configFile)) throw new UsageError('CONFIG_EXISTS', `config ${configFile} already exists; refusing to overwrite it`);
  checkMailUrl('--smtp', options.smtp, ['smtp', 'smtps', 'maildir']);
  const inbox = inboxUrl(options);
  checkMailUrl(options.inbox ? '--inbox' : '--imap', inbox, ['imap', 'imaps', 'pop3', 'pop3s', 'maildir']);
  const stateDir = path.resolve(options.stateDir ?? path.join(dir, 'state'));
  const keyFile = path.join(dir, 'keys', 'private.asc');
  const common = {
    role: options.role,
    id: options.id,
    address: options.address,
    smtp: options.smtp,
    imap: inbox,
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
    if (options.installWindow) parseInstallWindow(options.installWindow, '--install-window', 'BAD_INSTALL_WINDOW');
    const hostKey = await readHostKey(options.hostKey, options, globals);
    hostKeyArmored = hostKey.armored;
    hostFingerprint = hostKey.fingerprint;
    config = {
      ...common,
      hostId: options.hostId,
      hostAddress: options.hostAddress,
      hostKeyFile: path.join(dir, 'keys', 'host.asc'),
      installRoot: path.resolve(options.installRoot ?? path.join(dir, 'install')),
      ...(options.installWindow ? { installWindow: options.installWindow } : {}),
    };
  }
  // What rds will trust must be its own before anything is written: files named by the
  // options (password files, CA) and the folders init creates or reuses. A reused folder
  // with a group/world-writable mode is fixed; one owned by another user is refused.
  const fixed = [
    ensureOwnDir(path.dirname(configFile), 'config folder'),
    ensureOwnDir(path.dirname(keyFile), 'key folder'),
    ensureOwnDir(stateDir, 'state dir'),
    ...(options.role === 'agent' ? [ensureOwnDir(config.installRoot as string, 'install root')] : []),
  ].filter((note): note is string => note !== undefined);
  checkTrusted(trustedPathsOf(config as unknown as RdsConfig, configFile));
  const passphrase = readSecret(process.env.RDS_KEY_PASSPHRASE, undefined, 'key passphrase');
  const pair = await generateKeyPair(options.id, options.address, passphrase);
  await writeConfig(configFile, config);
  writeSecretFile(keyFile, pair.privateArmored);
  replaceFileSafely(path.join(dir, 'keys', 'public.asc'), pair.publicArmored, 0o644);
  if (hostKeyArmored) replaceFileSafely(config.hostKeyFile as string, hostKeyArmored, 0o644);

  const { openDb } = await import('../core/store/db.js');
  const db = openDb(stateDir);
  try {
    if (options.role === 'agent') {
      const { initInstallRoot } = await import('../core/install/layout.js');
      const { writeInstalled } = await import('../core/install/installed.js');
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
  for (const note of fixed) lines.push(`  fixed       ${note}`);
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
      fixed,
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

function inboxUrl(options: InitOptions): string {
  if (options.inbox && options.imap && options.inbox !== options.imap) {
    throw new UsageError('BAD_OPTION', '--inbox and --imap name the same setting: give one of them');
  }
  const url = options.inbox ?? options.imap;
  if (!url)
    throw new UsageError(
      'MISSING_OPTION',
      "required option '--inbox <url>' not specified (imap://, imaps://, pop3://, pop3s:// or maildir:///)",
    );
  return url;
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
