/**
 * Finding a quarantined mail again in the quarantine folder, and moving it back to the
 * inbox (`rds quarantine show|release`). Maildir: the inbox file name the store recorded,
 * now `<mailbox>/.<folder>/cur/<base>:2,S`, goes back to `<mailbox>/new/<base>`. IMAP: the
 * UID changes on MOVE, so the mail is found by its Message-ID header in the quarantine
 * folder (RFC 3501 §6.4.4 SEARCH HEADER) and MOVEd back to INBOX (RFC 6851). Nothing is
 * deleted: a released mail is read again by the next receive pass like new mail and passes
 * every check again (or is quarantined again, with a new record).
 */
import { rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Logger } from '../logger.js';
import { QUARANTINE_KEYWORD } from './imap.js';
import { openImapSession, toImapError } from './imap-session.js';
import { baseName, folderDir, mailboxDir, REASONS_DIR } from './maildir-layout.js';
import { type MailUrl, parseMailUrl, type ServerMailUrl } from './url.js';

export interface QuarantineRef {
  /** what the store recorded as `location`: the inbox UID (IMAP) or `new/<name>`/`cur/<name>` (Maildir) */
  location: string | null;
  messageId: string | null;
}

export interface QuarantineMailOptions {
  imap: string;
  address: string;
  folder: string;
  passwordOverride?: string;
  ca?: string | Buffer;
  logger?: Logger;
  timeoutMs?: number;
}

export interface FoundMail {
  /** where it is: a file path (Maildir) or `FOLDER uid N` (IMAP) */
  where: string;
  /** Maildir: the sidecar holding the reason, when present */
  reasonFile?: string;
}

function url(options: QuarantineMailOptions): MailUrl {
  return parseMailUrl(options.imap, { passwordOverride: options.passwordOverride });
}

function maildirPaths(root: string, options: QuarantineMailOptions, ref: QuarantineRef) {
  const name = ref.location ? /^(?:new|cur)\/([^/\\]+)$/.exec(ref.location)?.[1] : undefined;
  if (!name || name.startsWith('.')) return undefined;
  const mailbox = mailboxDir(root, options.address);
  const folder = folderDir(mailbox, options.folder);
  const base = baseName(name);
  return {
    file: path.join(folder, 'cur', `${base}:2,S`),
    reasonFile: path.join(folder, REASONS_DIR, `${base}.reason`),
    inbox: path.join(mailbox, 'new', base),
  };
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/** Where the quarantined mail is now, or undefined when it is not in the folder (moved by hand, released). */
export async function findQuarantined(options: QuarantineMailOptions, ref: QuarantineRef): Promise<FoundMail | undefined> {
  const u = url(options);
  if (u.scheme === 'maildir') {
    const p = maildirPaths(u.root, options, ref);
    if (!p || !(await exists(p.file))) return undefined;
    return { where: p.file, ...((await exists(p.reasonFile)) ? { reasonFile: p.reasonFile } : {}) };
  }
  if (u.scheme !== 'imap' && u.scheme !== 'imaps') throw new UsageError('MAIL_URL_INVALID', 'the imap setting names no inbox');
  if (!ref.messageId) return undefined;
  const client = await openImapSession(u, {
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  try {
    const uids = await searchFolder(client, u, options.folder, ref.messageId);
    return uids.length === 1 ? { where: `${options.folder} uid ${uids[0]}` } : undefined;
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function searchFolder(
  client: Awaited<ReturnType<typeof openImapSession>>,
  u: ServerMailUrl,
  folder: string,
  messageId: string,
): Promise<number[]> {
  try {
    await client.mailboxOpen(folder);
    const found = await client.search({ header: { 'message-id': messageId } }, { uid: true });
    return Array.isArray(found) ? found : [];
  } catch (error) {
    throw toImapError(error, u, `searching ${folder}`);
  }
}

/** Move the mail back to the inbox. Throws a one-line UsageError when it cannot be found there. */
export async function releaseQuarantined(options: QuarantineMailOptions, ref: QuarantineRef, id: number): Promise<string> {
  const u = url(options);
  const gone = () =>
    new UsageError(
      'QUARANTINE_MAIL_GONE',
      `quarantined mail ${id} is not in the ${options.folder} folder any more (moved by hand?); nothing was changed`,
    );
  if (u.scheme === 'maildir') {
    const p = maildirPaths(u.root, options, ref);
    if (!p || !(await exists(p.file))) throw gone();
    await rename(p.file, p.inbox);
    return p.inbox;
  }
  if (u.scheme !== 'imap' && u.scheme !== 'imaps') throw new UsageError('MAIL_URL_INVALID', 'the imap setting names no inbox');
  if (!ref.messageId) throw gone();
  const client = await openImapSession(u, {
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  try {
    const uids = await searchFolder(client, u, options.folder, ref.messageId);
    if (uids.length === 0) throw gone();
    if (uids.length > 1) {
      throw new UsageError(
        'QUARANTINE_AMBIGUOUS',
        `${uids.length} mails in ${options.folder} carry Message-ID ${ref.messageId}; move the right one to INBOX by hand`,
      );
    }
    const set = String(uids[0]);
    await client.messageFlagsRemove(set, [QUARANTINE_KEYWORD], { uid: true }).catch(() => false);
    const moved = await client.messageMove(set, 'INBOX', { uid: true }).catch((error: unknown) => {
      throw toImapError(error, u, `moving mail from ${options.folder} to INBOX`);
    });
    if (!moved) throw toImapError(new Error('MOVE failed'), u, `moving mail from ${options.folder} to INBOX`);
    return `INBOX (from ${options.folder} uid ${set})`;
  } finally {
    await client.logout().catch(() => client.close());
  }
}
