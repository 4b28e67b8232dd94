import fs from 'node:fs';
import type { RdsConfig } from '../config/schema.js';
import { type Check, fail, pass } from './check.js';

/**
 * Owners and modes of what the config names (`rds doctor`): each file or folder is owned by
 * the user running rds or by root, is not writable by group or others, and a secret (the
 * private key, a passphrase or password file, a config holding a password) is not readable
 * by them either. Kept to this one function on purpose: the shared trust module of the
 * project is to take its place.
 */
export function fileChecks(config: RdsConfig, configFile: string, uid = process.getuid?.() ?? 0): Check[] {
  const inUrl = /^[a-z]+:\/\/[^/@]*:[^/@]*@/i;
  const entries: { what: string; file: string | undefined; secret: boolean; dir?: boolean }[] = [
    { what: 'config', file: configFile, secret: inUrl.test(config.smtp) || inUrl.test(config.imap) },
    { what: 'private key', file: config.keyFile, secret: true },
    { what: 'key passphrase file', file: config.keyPassphraseFile, secret: true },
    { what: 'SMTP password file', file: config.smtpPasswordFile, secret: true },
    { what: 'IMAP password file', file: config.imapPasswordFile, secret: true },
    { what: 'TLS CA', file: config.tlsCa, secret: false },
    ...(config.role === 'agent' ? [{ what: 'pinned host key', file: config.hostKeyFile, secret: false }] : []),
    { what: 'state dir', file: config.stateDir, secret: false, dir: true },
  ];
  const checks: Check[] = [];
  for (const e of entries) {
    if (!e.file) continue;
    const name = `file ${e.what}`;
    let st: fs.Stats;
    try {
      st = fs.statSync(e.file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      checks.push(
        fail(name, `${e.file}: ${code}`, code === 'ENOENT' ? 'create it, or fix the path in the config' : 'check the path and its folders'),
      );
      continue;
    }
    const mode = st.mode & 0o777;
    const octal = mode.toString(8).padStart(4, '0');
    if (st.uid !== uid && st.uid !== 0) {
      checks.push(fail(name, `${e.file} is owned by uid ${st.uid}, not by this user (uid ${uid}) or root`, `chown ${uid} ${e.file}`));
    } else if (mode & 0o022) {
      checks.push(fail(name, `${e.file} is writable by group or others (mode ${octal})`, `chmod go-w ${e.file}`));
    } else if (e.secret && mode & 0o044) {
      checks.push(
        fail(
          name,
          `${e.file} holds a secret and is readable by group or others (mode ${octal})`,
          `chmod ${e.dir ? '700' : '600'} ${e.file}`,
        ),
      );
    } else {
      checks.push(pass(name, `${e.file} (mode ${octal}, uid ${st.uid})`));
    }
  }
  return checks;
}
