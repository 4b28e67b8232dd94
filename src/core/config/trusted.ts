/**
 * The paths a node's config makes rds trust, checked at the start of every command that
 * opens the config (src/core/fs/trust.ts has the rules). A maildir:// backend's root is
 * one of them: the mail in it carries signed commands and update packages.
 */
import { checkTrusted, type TrustedPath } from '../fs/trust.js';
import type { RdsConfig } from './schema.js';

export function trustedPathsOf(config: RdsConfig, configFile: string): TrustedPath[] {
  const paths: TrustedPath[] = [
    // a config with a password written into a mail URL is a secret too
    { path: configFile, kind: [config.smtp, config.imap].some(hasPassword) ? 'secret' : 'file', what: 'config' },
    { path: config.keyFile, kind: 'secret', what: 'private key' },
    { path: config.stateDir, kind: 'dir', what: 'state dir', mayBeMissing: true },
  ];
  if (config.keyPassphraseFile) paths.push({ path: config.keyPassphraseFile, kind: 'secret', what: 'key passphrase file' });
  if (config.smtpPasswordFile) paths.push({ path: config.smtpPasswordFile, kind: 'secret', what: 'SMTP password file' });
  if (config.imapPasswordFile) paths.push({ path: config.imapPasswordFile, kind: 'secret', what: 'IMAP password file' });
  if (config.role === 'host' && config.storePasswordFile) {
    paths.push({ path: config.storePasswordFile, kind: 'secret', what: 'store password file' });
  }
  if (config.tlsCa) paths.push({ path: config.tlsCa, kind: 'file', what: 'TLS CA file' });
  if (config.role === 'agent') {
    paths.push({ path: config.hostKeyFile, kind: 'file', what: 'pinned host key' });
    paths.push({ path: config.installRoot, kind: 'dir', what: 'install root', mayBeMissing: true });
  }
  for (const url of new Set([config.smtp, config.imap])) {
    const root = maildirRoot(url);
    if (root) paths.push({ path: root, kind: 'dir', what: 'Maildir root', mayBeMissing: true });
  }
  return paths;
}

export function checkConfigTrust(config: RdsConfig, configFile: string): void {
  checkTrusted(trustedPathsOf(config, configFile));
}

function maildirRoot(url: string): string | undefined {
  if (!url.startsWith('maildir://')) return undefined;
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined; // the mail layer reports a bad URL with its own message
  }
}

function hasPassword(url: string): boolean {
  return /^[a-z0-9]+:\/\/[^/@]*:[^/@]*@/i.test(url);
}
