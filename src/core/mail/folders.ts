/**
 * Where settled mail goes (docs/protocol.md#quarantine: processed mail is moved, never
 * re-acted on; rejected mail is quarantined, never deleted). The same names serve IMAP
 * folders and Maildir++ subfolders, so they are kept to characters that are safe in both:
 * no hierarchy delimiter ("/" or "."-prefix), nothing that needs IMAP mailbox-name quoting
 * or modified UTF-7 (RFC 3501 §5.1.3).
 */
import { UsageError } from '../errors.js';

export const DEFAULT_PROCESSED_FOLDER = 'rds-processed';
export const DEFAULT_QUARANTINE_FOLDER = 'rds-quarantine';

export function checkFolderName(folder: string): string {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_-]{0,99}$/.test(folder) || folder.toUpperCase() === 'INBOX') {
    throw new UsageError(
      'MAIL_FOLDER_INVALID',
      `folder name "${folder}" is not allowed (letters, digits, "-" and "_", not INBOX; example: rds-processed)`,
    );
  }
  return folder;
}
