/**
 * The mail layer's entry points: pick the adapter by URL scheme (docs/state.md#config).
 *
 *   smtp://, smtps://   → SMTP sender (smtp.ts)         imap://, imaps://  → IMAP inbox (imap.ts)
 *                                                       pop3://, pop3s://  → POP3 inbox (pop3.ts)
 *   maildir:///root     → Maildir sender / inbox (maildir.ts), the embedded backend
 *
 * Adapters, and with them nodemailer, imapflow and smtp-server, are imported only when
 * opened, so loading this module costs a cron-started command next to nothing.
 */
import { UsageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MailListener, MailListenerOptions } from './listener.js';
import type { Pop3Ledger } from './pop3.js';
import type { MailInbox, MailSender } from './types.js';
import { type MailUrl, parseMailUrl, redactMailUrl, type ServerMailUrl } from './url.js';

export { DEFAULT_PROCESSED_FOLDER, DEFAULT_QUARANTINE_FOLDER } from './folders.js';
export { checkMessageSize, DEFAULT_MAX_MESSAGE_SIZE, formatSize } from './limits.js';
export type { MailListener, MailListenerOptions } from './listener.js';
export type { Envelope, InboxMessage, MailInbox, MailSender, Settlement, TlsOptions } from './types.js';
export {
  DEFAULT_PORTS,
  formatMailUrl,
  type MaildirUrl,
  type MailUrl,
  parseMailUrl,
  redactMailUrl,
  type ServerMailUrl,
  serverAddress,
} from './url.js';

export interface MailOptions {
  /** PEM of a private CA (`--tls-ca FILE`), trusted in addition to the system roots. */
  ca?: string | Buffer;
  logger?: Logger;
  /** Password from RDS_SMTP_PASSWORD / RDS_IMAP_PASSWORD or a password file; wins over the URL's. */
  passwordOverride?: string;
  /** Parallel SMTP sessions (default 5). */
  maxConnections?: number;
  /** Mail larger than this is refused before sending (default 10240000). */
  maxMessageSize?: number;
  /** Connect and greeting timeout, each (default 30 s). */
  timeoutMs?: number;
}

export interface InboxOptions extends MailOptions {
  /** This node's own address: whose Maildir a `maildir://` inbox reads. */
  address?: string;
  processedFolder?: string;
  quarantineFolder?: string;
  /** IMAP, Maildir: one of several workers on this mailbox: start the pass at a random place in INBOX (imap.ts, maildir.ts) */
  spread?: boolean;
  /** a POP3 inbox keeps its record of handled mail and its quarantine locally (pop3.ts) */
  pop3?: { ledger: (url: ServerMailUrl) => Pop3Ledger; quarantineDir: string };
}

export async function openSender(url: string | MailUrl, options: MailOptions = {}): Promise<MailSender> {
  const parsed = resolveUrl(url, options.passwordOverride);
  if (parsed.scheme === 'maildir') {
    const { MaildirSender } = await import('./maildir.js');
    return new MaildirSender(parsed.root, { maxMessageSize: options.maxMessageSize, logger: options.logger });
  }
  if (parsed.scheme === 'smtp' || parsed.scheme === 'smtps') {
    const { createSmtpSender } = await import('./smtp.js');
    return createSmtpSender(parsed, options);
  }
  throw wrongKind(parsed, 'sending', 'smtp://, smtps:// or maildir:///');
}

export async function openInbox(url: string | MailUrl, options: InboxOptions = {}): Promise<MailInbox> {
  const parsed = resolveUrl(url, options.passwordOverride);
  if (parsed.scheme === 'maildir') {
    if (!options.address) {
      throw new UsageError('MAIL_NO_ADDRESS', `a maildir:// inbox needs this node's own address to know which Maildir to read`);
    }
    const { MaildirInbox } = await import('./maildir.js');
    return new MaildirInbox(parsed.root, options.address, options);
  }
  if (parsed.scheme === 'imap' || parsed.scheme === 'imaps') {
    const { createImapInbox } = await import('./imap.js');
    return createImapInbox(parsed, options);
  }
  if (parsed.scheme === 'pop3' || parsed.scheme === 'pop3s') {
    if (!options.pop3) throw new UsageError('MAIL_URL_INVALID', `${redactMailUrl(parsed)}: a POP3 inbox needs the state store`);
    const { Pop3Inbox } = await import('./pop3.js');
    return new Pop3Inbox(parsed, {
      ledger: options.pop3.ledger(parsed),
      quarantineDir: options.pop3.quarantineDir,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.maxMessageSize ? { maxMessageSize: options.maxMessageSize } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }
  throw wrongKind(parsed, 'reading', 'imap://, imaps://, pop3://, pop3s:// or maildir:///');
}

/** The embedded SMTP listener delivering into `maildir:///root` (listener.ts). */
export async function startMailListener(options: MailListenerOptions): Promise<MailListener> {
  const listener = await import('./listener.js');
  return listener.startMailListener(options);
}

function resolveUrl(url: string | MailUrl, passwordOverride?: string): MailUrl {
  if (typeof url === 'string') return parseMailUrl(url, { passwordOverride });
  if (passwordOverride === undefined || url.scheme === 'maildir') return url;
  return { ...url, password: passwordOverride };
}

function wrongKind(url: MailUrl, purpose: string, expected: string): UsageError {
  return new UsageError('MAIL_URL_INVALID', `${redactMailUrl(url)} cannot be used for ${purpose} mail (expected ${expected})`);
}
