import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../core/errors.js';
import { readHostKey } from '../core/init/host-key.js';
import { checkMailUrl, inboxUrl } from '../core/init/mail-urls.js';
import { storeSettings } from '../core/init/store.js';
import { type NodeFiles, writeNode } from '../core/init/write.js';
import { parseInstallWindow } from '../core/install/window.js';
import { parseVersion } from '../core/version/version.js';
import { loggerFor } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { init } from './specs/shared.js';
import type { CommandResult, GlobalOptions } from './types.js';

export type InitOptions = OptionsOf<typeof init>;

/** `rds init`: the options checked before anything is written, then the node's files (src/core/init/). */
export async function run(options: InitOptions, globals: GlobalOptions): Promise<CommandResult> {
  const dir = path.resolve(options.dir);
  const configFile = globals.config ? path.resolve(globals.config) : path.join(dir, 'config.json');
  if (fs.existsSync(configFile)) throw new UsageError('CONFIG_EXISTS', `config ${configFile} already exists; refusing to overwrite it`);
  checkMailUrl('--smtp', options.smtp, ['smtp', 'smtps', 'maildir']);
  const inbox = inboxUrl(options.inbox, options.imap);
  checkMailUrl(options.inbox ? '--inbox' : '--imap', inbox, ['imap', 'imaps', 'pop3', 'pop3s', 'maildir']);
  const config = {
    role: options.role,
    id: options.id,
    address: options.address,
    smtp: options.smtp,
    imap: inbox,
    stateDir: path.resolve(options.stateDir ?? path.join(dir, 'state')),
    keyFile: path.join(dir, 'keys', 'private.asc'),
    ...(options.tlsCa ? { tlsCa: path.resolve(options.tlsCa) } : {}),
    ...(options.smtpPasswordFile ? { smtpPasswordFile: path.resolve(options.smtpPasswordFile) } : {}),
    ...(options.imapPasswordFile ? { imapPasswordFile: path.resolve(options.imapPasswordFile) } : {}),
    ...storeSettings(options),
  };
  const agent = options.role === 'agent' ? await agentPart(options, globals, dir) : undefined;
  const publicKeyFile = path.join(dir, 'keys', 'public.asc');
  const { fingerprint, fixed } = await writeNode({
    id: options.id,
    address: options.address,
    configFile,
    config: { ...config, ...agent?.config },
    publicKeyFile,
    ...(agent ? { agent: agent.files } : {}),
  });
  const lines = [
    `initialised ${options.role} ${options.id}`,
    `  config      ${configFile}`,
    `  key         ${fingerprint}`,
    `  public key  ${publicKeyFile}`,
  ];
  for (const note of fixed) lines.push(`  fixed       ${note}`);
  if (agent) {
    lines.push(`  host key    ${agent.hostFingerprint} (pinned: compare it out of band with \`rds keys show\` on the host)`);
  }
  return {
    data: {
      role: options.role,
      id: options.id,
      config: configFile,
      fingerprint,
      ...(agent ? { hostKeyFingerprint: agent.hostFingerprint } : {}),
      fixed,
    },
    text: lines.join('\n'),
  };
}

/** An agent's own settings: the host it answers to, its pinned key, its install root and running version. */
async function agentPart(options: InitOptions, globals: GlobalOptions, dir: string) {
  if (!options.hostAddress) throw new UsageError('MISSING_OPTION', 'an agent needs --host-address');
  if (!options.hostKey)
    throw new UsageError('MISSING_OPTION', "an agent needs --host-key (the host's public key, from `rds keys export` on the host)");
  parseVersion(options.softwareVersion, '--software-version');
  if (options.romVersion) parseVersion(options.romVersion, '--rom-version');
  if (options.installWindow) parseInstallWindow(options.installWindow, '--install-window', 'BAD_INSTALL_WINDOW');
  const hostKey = await readHostKey(options.hostKey, options, loggerFor(globals));
  const config = {
    hostId: options.hostId,
    hostAddress: options.hostAddress,
    hostKeyFile: path.join(dir, 'keys', 'host.asc'),
    installRoot: path.resolve(options.installRoot ?? path.join(dir, 'install')),
    ...(options.installWindow ? { installWindow: options.installWindow } : {}),
  };
  const files: NonNullable<NodeFiles['agent']> = {
    installRoot: config.installRoot,
    hostKeyFile: config.hostKeyFile,
    hostKeyArmored: hostKey.armored,
    softwareVersion: options.softwareVersion,
    ...(options.romVersion ? { romVersion: options.romVersion } : {}),
  };
  return { config, files, hostFingerprint: hostKey.fingerprint };
}
