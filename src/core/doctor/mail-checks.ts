import fs from 'node:fs';
import path from 'node:path';
import { isRdsError } from '../errors.js';
import { mailboxDir } from '../mail/maildir-layout.js';
import { tlsOptions } from '../mail/tls-options.js';
import { parseMailUrl, type ServerMailUrl, serverAddress } from '../mail/url.js';
import { type Check, fail, pass } from './check.js';

export interface MailProbeOptions {
  passwordOverride?: string;
  ca?: string | Buffer;
  timeoutMs: number;
}

const tlsWord = (u: ServerMailUrl) => (u.tls === 'implicit' ? 'TLS' : u.tls === 'starttls' ? 'STARTTLS' : 'no TLS (tls=off)');

/** The fix for a mail failure, by our error code (smtp.ts / imap-session.ts map the server's answer to it). */
function fixFor(code: string, what: 'SMTP' | 'IMAP'): string {
  if (code.endsWith('_AUTH'))
    return `check the ${what} user in the URL and the password (RDS_${what}_PASSWORD or ${what.toLowerCase()}PasswordFile)`;
  if (code.endsWith('_TLS')) return 'check the server certificate and its name; a private CA goes in tlsCa (rds init --tls-ca)';
  if (code.endsWith('_UNREACHABLE')) return `check the ${what} host and port, the firewall, and that the server runs`;
  if (code.endsWith('NO_PASSWORD')) return `give the ${what} password: RDS_${what}_PASSWORD or ${what.toLowerCase()}PasswordFile`;
  return `check the ${what} URL in the config (host, port, scheme)`;
}

function maildirRoot(name: string, root: string, sub?: string): Check {
  const dir = sub ?? root;
  // a Maildir is made on first delivery: what counts is that this user can make or write it
  let existing = dir;
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    fs.accessSync(existing, fs.constants.W_OK | fs.constants.X_OK);
    return pass(name, `maildir ${dir} (embedded backend) ${existing === dir ? 'is writable' : 'is made on first delivery'}`);
  } catch (error) {
    return fail(
      name,
      `maildir ${dir}: ${existing} is not writable (${(error as NodeJS.ErrnoException).code})`,
      `let this user write ${existing}`,
    );
  }
}

/** SMTP: connect, TLS (implicit or STARTTLS) verified with the configured CA, and the login. */
export async function checkSmtp(url: string, options: MailProbeOptions): Promise<Check> {
  let u: ReturnType<typeof parseMailUrl>;
  try {
    u = parseMailUrl(url, { passwordOverride: options.passwordOverride });
  } catch (error) {
    return fail('smtp', (error as Error).message, 'fix the smtp URL in the config');
  }
  if (u.scheme === 'maildir') return maildirRoot('smtp', u.root);
  if (u.user !== undefined && u.password === undefined)
    return fail('smtp', `no SMTP password for ${u.user}`, fixFor('NO_PASSWORD', 'SMTP'));
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host: u.host,
    port: u.port,
    secure: u.tls === 'implicit',
    requireTLS: u.tls === 'starttls',
    ignoreTLS: u.tls === 'off',
    tls: tlsOptions(options.ca),
    ...(u.user === undefined ? {} : { auth: { user: u.user, pass: u.password ?? '' } }),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  try {
    await transport.verify();
    return pass('smtp', `${serverAddress(u)}: ${tlsWord(u)} verified${u.user ? `, login as ${u.user} accepted` : ', no login'}`);
  } catch (error) {
    const { toSmtpError } = await import('../mail/smtp.js');
    const mapped = toSmtpError(error, u);
    return fail('smtp', mapped.message, fixFor(mapped.code, 'SMTP'));
  } finally {
    transport.close();
  }
}

/** IMAP: connect, TLS, login, INBOX, and the processed and quarantine folders. */
export async function checkImap(
  url: string,
  address: string,
  folders: { processed: string; quarantine: string },
  options: MailProbeOptions,
): Promise<Check> {
  let u: ReturnType<typeof parseMailUrl>;
  try {
    u = parseMailUrl(url, { passwordOverride: options.passwordOverride });
  } catch (error) {
    return fail('imap', (error as Error).message, 'fix the imap URL in the config');
  }
  if (u.scheme === 'maildir') {
    try {
      return maildirRoot('imap', u.root, mailboxDir(u.root, address));
    } catch (error) {
      return fail('imap', (error as Error).message, 'fix address in the config');
    }
  }
  if (u.scheme === 'pop3' || u.scheme === 'pop3s') {
    // POP3: login (after STLS on pop3://) and the size of the maildrop; nothing is read or deleted
    const { Pop3Client } = await import('../mail/pop3-client.js');
    try {
      const client = await Pop3Client.open(u, { ...(options.ca ? { ca: options.ca } : {}), timeoutMs: options.timeoutMs });
      try {
        const listing = await client.listing();
        return pass(
          'imap',
          `${serverAddress(u)}: POP3 ${u.scheme === 'pop3s' ? 'TLS' : 'STLS'} verified, login as ${u.user} accepted, ${listing.length} waiting`,
        );
      } finally {
        await client.quit().catch(() => client.destroy());
      }
    } catch (error) {
      const code = isRdsError(error) ? error.code : 'POP3_FAILED';
      return fail('imap', (error as Error).message, fixFor(code, 'IMAP'));
    }
  }
  const { openImapSession, toImapError } = await import('../mail/imap-session.js');
  let client: Awaited<ReturnType<typeof openImapSession>>;
  try {
    client = await openImapSession(u, { ...(options.ca ? { ca: options.ca } : {}), timeoutMs: options.timeoutMs });
  } catch (error) {
    const code = isRdsError(error) ? error.code : 'IMAP_FAILED';
    return fail('imap', (error as Error).message, fixFor(code, 'IMAP'));
  }
  try {
    const inbox = await client.mailboxOpen('INBOX', { readOnly: true });
    const names = new Set((await client.list()).map((m) => m.path));
    const missing = [folders.processed, folders.quarantine].filter((f) => !names.has(f));
    const note =
      missing.length > 0 ? `; ${missing.join(', ')} created on first use` : `; ${folders.processed}, ${folders.quarantine} present`;
    return pass('imap', `${serverAddress(u)}: ${tlsWord(u)} verified, login as ${u.user} accepted, INBOX holds ${inbox.exists}${note}`);
  } catch (error) {
    const mapped = toImapError(error, u, 'opening INBOX');
    return fail('imap', mapped.message, 'check that the mailbox exists and this user may read it');
  } finally {
    await client.logout().catch(() => client.close());
  }
}
