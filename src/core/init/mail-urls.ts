import { isRdsError, UsageError } from '../errors.js';
import { parseMailUrl, redactMailUrl } from '../mail/url.js';

/** `--inbox` or its older name `--imap`: one of them, not two different ones. */
export function inboxUrl(inbox: string | undefined, imap: string | undefined): string {
  if (inbox && imap && inbox !== imap) {
    throw new UsageError('BAD_OPTION', '--inbox and --imap name the same setting: give one of them');
  }
  const url = inbox ?? imap;
  if (!url)
    throw new UsageError(
      'MISSING_OPTION',
      "required option '--inbox <url>' not specified (imap://, imaps://, pop3://, pop3s:// or maildir:///)",
    );
  return url;
}

/** Refuse a mail URL before anything is written: one line, the password shown as `***`. */
export function checkMailUrl(option: string, text: string, schemes: string[]): void {
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
