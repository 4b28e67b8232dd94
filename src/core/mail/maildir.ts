/**
 * The embedded mail backend (`maildir:///root`): a sender that delivers into the Maildir of
 * each recipient under the root, and an inbox that reads the Maildir of this node's own
 * address. Layout and naming: maildir-layout.ts.
 *
 * Delivery follows the Maildir spec: write into tmp/ under a unique name, fsync, then
 * rename into new/. A reader never sees half a mail, and a crash leaves at most a stray
 * file in tmp/. Mail is kept byte for byte as given (no Return-Path or Received header is
 * added: this is a local store, not a relay).
 *
 * Settling renames the file into the cur/ of a Maildir++ subfolder, never deletes it. A
 * quarantined mail gets a sidecar `<folder>/rds-reasons/<base name>.reason` holding the
 * reason as one line of text, written before the rename: a crash in between leaves the
 * mail in the inbox (read again next time) and a reason that is overwritten then.
 */
import { randomInt } from 'node:crypto';
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isRdsError, type RdsError, TransientError, UsageError } from '../errors.js';
import { mkdirNoFollow, replaceFileSafely } from '../fs/trust.js';
import { type Logger, silentLogger } from '../logger.js';
import { DEFAULT_PROCESSED_FOLDER, DEFAULT_QUARANTINE_FOLDER } from './folders.js';
import { checkMessageSize, DEFAULT_MAX_MESSAGE_SIZE } from './limits.js';
import {
  baseName,
  compareArrival,
  DIR_MODE,
  ensureMaildir,
  FILE_MODE,
  folderDir,
  mailboxDir,
  REASONS_DIR,
  uniqueName,
} from './maildir-layout.js';
import type { Envelope, InboxMessage, MailInbox, MailSender, Settlement } from './types.js';

export interface MaildirSenderOptions {
  maxMessageSize?: number;
  /** fsync each mail before it becomes visible (default true; tests may turn it off). */
  fsync?: boolean;
  logger?: Logger;
}

export class MaildirSender implements MailSender {
  constructor(
    private readonly root: string,
    private readonly options: MaildirSenderOptions = {},
  ) {}

  async sendRaw(envelope: Envelope, raw: Buffer): Promise<void> {
    checkMessageSize(raw, this.options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE);
    // Check every recipient before delivering to any, so a bad one cannot cause half a send.
    const mailboxes = [...new Set(envelope.to.map((address) => mailboxDir(this.root, address)))];
    for (const mailbox of mailboxes) await this.deliver(mailbox, raw);
    (this.options.logger ?? silentLogger).debug('maildir: delivered', { to: mailboxes.length, size: raw.length });
  }

  async close(): Promise<void> {}

  private async deliver(mailbox: string, raw: Buffer): Promise<void> {
    const name = uniqueName(raw.length);
    const tmp = path.join(mailbox, 'tmp', name);
    try {
      await ensureMaildir(mailbox);
      await writeDurably(tmp, raw, this.options.fsync ?? true);
      await rename(tmp, path.join(mailbox, 'new', name));
    } catch (error) {
      await unlink(tmp).catch(() => {});
      throw toMaildirError(error, mailbox);
    }
  }
}

async function writeDurably(file: string, data: Buffer, sync: boolean): Promise<void> {
  const handle = await open(file, 'wx', FILE_MODE); // O_EXCL: never overwrite another delivery
  try {
    await handle.writeFile(data);
    if (sync) await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface MaildirInboxOptions {
  processedFolder?: string;
  quarantineFolder?: string;
  logger?: Logger;
  /** one of several workers on this mailbox: start at a random place in the inbox, as imap.ts does */
  spread?: boolean;
}

export class MaildirInbox implements MailInbox {
  private readonly mailbox: string;
  private readonly folders: Record<Settlement['kind'], string>;

  constructor(
    root: string,
    address: string,
    private readonly options: MaildirInboxOptions = {},
  ) {
    this.mailbox = mailboxDir(root, address);
    this.folders = {
      processed: folderDir(this.mailbox, options.processedFolder ?? DEFAULT_PROCESSED_FOLDER),
      quarantined: folderDir(this.mailbox, options.quarantineFolder ?? DEFAULT_QUARANTINE_FOLDER),
    };
  }

  async *messages(options: { max?: number; maxSize?: number } = {}): AsyncIterable<InboxMessage> {
    const maxSize = options.maxSize ?? Number.POSITIVE_INFINITY;
    const listed = await this.listWaiting();
    const start = this.options.spread ? randomInt(Math.max(1, listed.length)) : 0;
    const waiting = [...listed.slice(start), ...listed.slice(0, start)];
    for (const uid of waiting.slice(0, options.max ?? waiting.length)) {
      const message = await this.read(uid, maxSize);
      if (message) yield message;
    }
  }

  async settle(message: InboxMessage, settlement: Settlement): Promise<void> {
    const source = this.locate(message.uid);
    const folder = this.folders[settlement.kind];
    const base = baseName(path.basename(source));
    try {
      await ensureMaildir(folder, true);
      if (settlement.kind === 'quarantined') await writeReason(folder, base, settlement.reason);
      // `:2,S` = Maildir info "seen" (a mail reader shows it as read).
      await rename(source, path.join(folder, 'cur', `${base}:2,S`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !(await exists(source))) {
        (this.options.logger ?? silentLogger).warn('maildir: message already gone from the inbox', { uid: message.uid });
        return;
      }
      throw toMaildirError(error, this.mailbox);
    }
  }

  async close(): Promise<void> {}

  /** `new/<name>` and `cur/<name>` of the inbox, oldest first. */
  private async listWaiting(): Promise<string[]> {
    try {
      await ensureMaildir(this.mailbox);
      const lists = await Promise.all(
        ['new', 'cur'].map(async (sub) =>
          (await readdir(path.join(this.mailbox, sub))).filter((n) => !n.startsWith('.')).map((n) => ({ sub, n })),
        ),
      );
      return lists
        .flat()
        .sort((a, b) => compareArrival(a.n, b.n))
        .map(({ sub, n }) => `${sub}/${n}`);
    } catch (error) {
      throw toMaildirError(error, this.mailbox);
    }
  }

  private async read(uid: string, maxSize: number): Promise<InboxMessage | undefined> {
    const file = this.locate(uid);
    try {
      const { size } = await stat(file);
      if (size > maxSize) return { uid, raw: Buffer.alloc(0), size };
      const raw = await readFile(file);
      return { uid, raw, size: raw.length };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // settled meanwhile
      throw toMaildirError(error, this.mailbox);
    }
  }

  // A uid is only ever one we handed out; still, never let one name a path outside the inbox.
  private locate(uid: string): string {
    const match = /^(new|cur)\/([^/\\]+)$/.exec(uid);
    if (!match || match[2]?.startsWith('.')) throw new UsageError('MAILDIR_BAD_UID', `"${uid}" is not a message of this Maildir inbox`);
    return path.join(this.mailbox, uid);
  }
}

async function writeReason(folder: string, base: string, reason: string): Promise<void> {
  const dir = path.join(folder, REASONS_DIR);
  mkdirNoFollow(dir, DIR_MODE);
  // through a fresh O_EXCL name and rename(2): a planted symlink is replaced, never followed
  replaceFileSafely(path.join(dir, `${base}.reason`), `${reason.replace(/[\r\n]+/g, ' ')}\n`, FILE_MODE);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function toMaildirError(error: unknown, mailbox: string): RdsError {
  if (isRdsError(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const message = `Maildir ${mailbox}: ${(error as Error).message}`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR') {
    return new UsageError('MAILDIR_ACCESS', message, { cause: error });
  }
  return new TransientError('MAILDIR_UNAVAILABLE', message, { cause: error });
}
