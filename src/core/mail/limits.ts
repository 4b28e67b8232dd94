/**
 * Mail size limit, checked before a single byte is sent. Servers refuse big mail only after
 * the whole DATA has crossed the wire (RFC 5321 §4.5.3.1.7, 552 reply; the SIZE extension of
 * RFC 1870 helps only when declared), which for a push to many agents means minutes of
 * upload per refusal. Refusing locally gives the operator a clear number instead.
 */
import { UsageError } from '../errors.js';

/**
 * Postfix's `message_size_limit` default: 10240000 bytes (what its EHLO announces as
 * `SIZE 10240000`). Hosted mailboxes allow 25–35 MB; raise it only when every hop does.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 10_240_000;

export function checkMessageSize(raw: { length: number }, maxBytes: number = DEFAULT_MAX_MESSAGE_SIZE): void {
  if (raw.length <= maxBytes) return;
  throw new UsageError(
    'MAIL_TOO_LARGE',
    `mail of ${formatSize(raw.length)} is larger than the limit of ${formatSize(maxBytes)}; ` +
      'not sent (make the update package smaller, or raise the mail size limit if every server on the way accepts it)',
    { details: { size: raw.length, limit: maxBytes } },
  );
}

export function formatSize(bytes: number): string {
  return `${bytes} bytes (${(bytes / 1_048_576).toFixed(1)} MiB)`;
}
