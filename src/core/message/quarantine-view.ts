/**
 * What `rds quarantine list|show|release` shows of the quarantine records
 * (quarantine-store.ts): the table, one record in full, and whether a release can help.
 * Senders, subjects and reasons are outside text: neutralised before they are printed.
 */
import { UsageError } from '../errors.js';
import { showText } from '../text/show.js';
import { formatTable, formatTime, formatTimeZoned, timeColumn } from '../text/table.js';
import type { QuarantineRecord } from './quarantine-store.js';

/** Where the quarantined mail is now; `present: null` when the mailbox could not be asked. */
export interface QuarantinedMail {
  folder: string;
  present: boolean | null;
  where: string | null;
  reasonFile?: string;
  error?: string;
}

const state = (q: QuarantineRecord) => (q.releasedAt ? `released ${formatTime(q.releasedAt)}` : q.releasable ? 'releasable' : 'kept');

/** The table of `rds quarantine list`. */
export function quarantineTable(records: QuarantineRecord[]): string {
  if (records.length === 0) return 'nothing quarantined';
  return formatTable(
    ['ID', timeColumn('Received'), 'Code', 'From', 'Subject', 'State'],
    records.map((q) => [String(q.id), q.receivedAt, q.code, q.from ?? '-', q.subject ?? '-', state(q)]),
  );
}

/** `rds quarantine show`: the record, where its mail is, and what can be done with it. */
export function quarantineDetail(q: QuarantineRecord, mail: QuarantinedMail): string {
  const lines = [
    `quarantined mail ${q.id}`,
    `  received     ${formatTimeZoned(q.receivedAt)}`,
    `  code         ${showText(q.code)}`,
    `  reason       ${showText(q.reason)}`,
    `  from         ${showText(q.from ?? '-')}`,
    `  subject      ${showText(q.subject ?? '-')}`,
    `  message-id   ${showText(q.messageId ?? '-')}`,
    `  payload id   ${showText(q.payloadId ?? '-')}`,
    `  mail         ${
      mail.present === null
        ? `unknown: ${showText(mail.error ?? '')}`
        : mail.present
          ? showText(mail.where ?? '')
          : `not in ${showText(mail.folder)} any more`
    }`,
    `  state        ${
      q.releasedAt
        ? `released ${formatTime(q.releasedAt)}`
        : q.releasable
          ? `releasable: fix the cause, then rds quarantine release ${q.id}`
          : `kept: re-checking cannot cure ${showText(q.code)}`
    }`,
  ];
  return lines.join('\n');
}

/** A release of a mail released already, or refused for a cause re-checking cannot cure, is refused (exit 2). */
export function checkReleasable(q: QuarantineRecord, folder: string): void {
  if (q.releasedAt) throw new UsageError('ALREADY_RELEASED', `quarantined mail ${q.id} was released already (${q.releasedAt})`);
  if (!q.releasable) {
    throw new UsageError(
      'NOT_RELEASABLE',
      `quarantined mail ${q.id} was refused for ${q.code}, which re-checking cannot cure; it stays in ${folder}`,
    );
  }
}
