/**
 * MailInbox over IMAP (RFC 3501 / RFC 9051): one session, INBOX selected once.
 *
 * Listing: `UID SEARCH ALL` gives what waits, oldest first (UIDs grow with arrival, RFC 3501
 * §2.3.1.1). `UID SEARCH LARGER t` (§6.4.4, the same RFC822.SIZE a FETCH reports) names
 * the few mails bigger than a small threshold t, and only those have their exact size
 * fetched. Two one-line answers instead of a FETCH line per mail keep a 1,000-mail inbox
 * close to the cost of a bare fetch. Mails over `maxSize` are yielded without a body, never
 * downloaded, so the caller can quarantine them unread.
 *
 * Reading: bodies come in batches (`UID FETCH set BODY.PEEK[]`, which leaves \Seen alone)
 * of at most `fetchBatch` mails and about `batchBytes` bytes (a mail not known to be over t
 * counts as t), and are handed out one at a time. While the caller works on a batch of small
 * mail, the next batch is already being read (one FETCH ahead: parsing and checking
 * signatures of 250 reports takes about as long as reading them, and the two now overlap);
 * mail known to be large is never read ahead. imapflow runs one command at a time, so a MOVE
 * sent by settle() meanwhile waits for that FETCH; both name mail by UID, so neither
 * disturbs the other.
 *
 * Settling: processed mail is MOVEd (RFC 6851) to the processed folder, rejected mail to the
 * quarantine folder after tagging it with the keyword `$rds-quarantined` (kept on the moved
 * copy) where the server allows keywords. Folders are created on first use. Nothing is ever
 * expunged or deleted. MOVEs are buffered and sent by UID set: every `moveBatch`
 * settlements, before handing out a mail when the oldest unsent one waited `moveDelayMs`
 * (the caller may be about to work for minutes), at the end of a pass and on close(); the
 * first two without waiting for the server's answer (the caller goes on meanwhile; the end
 * of the pass waits for every MOVE and reports a failure). Each
 * MOVE costs a server like Dovecot a rewrite of both folders' indexes (~20 ms measured), so
 * one MOVE of 500 beats 500 MOVEs of one. A crash in between leaves already-processed mail
 * in INBOX, to be fetched again next time, where the state store's record of processed
 * message ids stops it from acting twice. Mail is never lost.
 */
import { randomInt } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { UsageError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { checkFolderName, DEFAULT_PROCESSED_FOLDER, DEFAULT_QUARANTINE_FOLDER } from './folders.js';
import { planBatches, sizeThreshold, toSequenceSet, type Waiting } from './imap-plan.js';
import { commandFailed, type ImapSessionOptions, openImapSession, toImapError } from './imap-session.js';
import type { InboxMessage, MailInbox, Settlement } from './types.js';
import type { ServerMailUrl } from './url.js';

export const QUARANTINE_KEYWORD = '$rds-quarantined';
/** MOVEs of one set before mail still in INBOX counts as a failure (see moveSet). */
const MOVE_ATTEMPTS = 3;

export interface ImapInboxOptions extends ImapSessionOptions {
  processedFolder?: string;
  quarantineFolder?: string;
  /** Mails per body FETCH (default 250). */
  fetchBatch?: number;
  /** Body bytes per FETCH (default 16 MiB; a single bigger mail still comes alone). */
  batchBytes?: number;
  /** Settlements buffered before a MOVE is sent (default 500). */
  moveBatch?: number;
  /** Longest a settlement waits for its MOVE while the caller works on the next mail (default 2 s). */
  moveDelayMs?: number;
  /**
   * One of several workers reading this INBOX: the pass starts at a random mail (oldest
   * first from there, then wrapping round) so that workers mostly take different mail.
   */
  spread?: boolean;
}

export async function createImapInbox(url: ServerMailUrl, options: ImapInboxOptions = {}): Promise<MailInbox> {
  const folders = {
    processed: checkFolderName(options.processedFolder ?? DEFAULT_PROCESSED_FOLDER),
    quarantined: checkFolderName(options.quarantineFolder ?? DEFAULT_QUARANTINE_FOLDER),
  };
  const client = await openImapSession(url, options);
  try {
    await client.mailboxOpen('INBOX');
  } catch (error) {
    await client.logout().catch(() => client.close());
    throw toImapError(error, url, 'opening INBOX');
  }
  return new ImapInbox(client, url, folders, options);
}

class ImapInbox implements MailInbox {
  private pending = new Map<string, Set<number>>();
  /** MOVEs sent without waiting (see flushSoon); the next flush() waits for them and reports a failure. */
  private moving: Promise<void> | undefined;
  private readonly toTag = new Set<number>();
  private readonly ready = new Set<string>();
  private readonly fetchBatch: number;
  private readonly batchBytes: number;
  private readonly moveBatch: number;
  private readonly moveDelayMs: number;
  private readonly spread: boolean;
  private readonly logger: Logger;
  private pendingSince = 0;
  private closed = false;

  constructor(
    private readonly client: ImapFlow,
    private readonly url: ServerMailUrl,
    private readonly folders: Record<Settlement['kind'], string>,
    options: ImapInboxOptions,
  ) {
    this.fetchBatch = Math.max(1, options.fetchBatch ?? 250);
    this.batchBytes = Math.max(1, options.batchBytes ?? 16 * 1_048_576);
    this.moveBatch = Math.max(1, options.moveBatch ?? 500);
    this.moveDelayMs = options.moveDelayMs ?? 2000;
    this.spread = options.spread === true;
    this.logger = options.logger ?? silentLogger;
  }

  async *messages(options: { max?: number; maxSize?: number } = {}): AsyncIterable<InboxMessage> {
    const maxSize = options.maxSize ?? Number.POSITIVE_INFINITY;
    const base = { count: this.fetchBatch, bytes: this.batchBytes, maxSize };
    const limits = { ...base, threshold: sizeThreshold(base) };
    await this.flush();
    const waiting = await this.listWaiting(options.max, limits.threshold);
    const fits = (m: Waiting) => (m.size ?? limits.threshold) <= maxSize;
    const fetch = (batch: Waiting[]) => {
      const bodies = this.fetchBodies(batch.filter(fits).map((m) => m.uid));
      bodies.catch(() => {}); // awaited below; the caller may stop early and never get to it
      return bodies;
    };
    const batches = planBatches(waiting, limits);
    let next = batches[0] ? fetch(batches[0]) : undefined;
    for (const [i, batch] of batches.entries()) {
      const bodies = await (next ?? fetch(batch));
      // Small mail (none known to be over the threshold): the next batch is read while the
      // caller works on this one (one FETCH ahead; a MOVE from settle() queues behind it).
      // Large mail is not read ahead: it would sit in memory during an install.
      const following = batches[i + 1];
      next = following?.every((m) => m.size === undefined) ? fetch(following) : undefined;
      for (const message of batch) {
        const raw = fits(message) ? bodies.get(message.uid) : Buffer.alloc(0);
        if (!raw) continue; // expunged meanwhile
        // The caller may now work for long (an update install): settle what it finished first.
        if (this.pendingSince > 0 && performance.now() - this.pendingSince >= this.moveDelayMs) this.flushSoon();
        yield { uid: String(message.uid), raw, size: raw.length > 0 ? raw.length : (message.size ?? 0) };
      }
    }
    await this.flush();
  }

  async settle(message: InboxMessage, settlement: Settlement): Promise<void> {
    if (this.closed) throw new Error('settle() after close()');
    const uid = Number(message.uid);
    if (!Number.isInteger(uid) || uid < 1) throw new UsageError('IMAP_BAD_UID', `"${message.uid}" is not an IMAP UID`);
    const folder = this.folders[settlement.kind];
    if (settlement.kind === 'quarantined') this.toTag.add(uid);
    this.pending.set(folder, (this.pending.get(folder) ?? new Set()).add(uid));
    if (this.pendingSince === 0) this.pendingSince = performance.now();
    if (this.pendingCount() >= this.moveBatch) {
      this.flushSoon();
      if (this.pendingCount() >= this.moveBatch) await this.flush(); // the previous batch is still on its way
    }
  }

  private pendingCount(): number {
    let n = 0;
    for (const uids of this.pending.values()) n += uids.size;
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      await this.client.logout().catch(() => this.client.close());
    }
  }

  private async listWaiting(max: number | undefined, threshold: number): Promise<Waiting[]> {
    const sorted = (await this.search('listing INBOX', { all: true })).sort((a, b) => a - b);
    const start = this.spread ? randomInt(Math.max(1, sorted.length)) : 0;
    const all = [...sorted.slice(start), ...sorted.slice(0, start)].slice(0, max);
    if (all.length === 0) return [];
    const taken = new Set(all);
    const large = (await this.search('listing large mail', { larger: threshold })).filter((uid) => taken.has(uid));
    const sizes = new Map<number, number>();
    if (large.length > 0) {
      const fetched = await this.guard('reading mail sizes', () =>
        this.client.fetchAll(toSequenceSet(large), { uid: true, size: true }, { uid: true }),
      );
      for (const m of fetched) sizes.set(m.uid, m.size ?? 0);
    }
    return all.map((uid) => ({ uid, size: sizes.get(uid) }));
  }

  private async search(doing: string, query: { all?: boolean; larger?: number; uid?: string }): Promise<number[]> {
    const found = await this.guard(doing, () => this.client.search(query, { uid: true }));
    if (!Array.isArray(found)) throw commandFailed(this.client, this.url, doing);
    return found;
  }

  /** Bodies by UID; a mail gone meanwhile (moved by another worker) is left out, a refused FETCH retried once for those left. */
  private async fetchBodies(uids: number[]): Promise<Map<number, Buffer>> {
    if (uids.length === 0) return new Map();
    const fetch = (set: number[]) => this.client.fetchAll(toSequenceSet(set), { uid: true, source: true }, { uid: true });
    const fetched = await fetch(uids).catch(async () => {
      const left = await this.stillHere(uids);
      return left.length === 0 ? [] : await this.guard('fetching mail', () => fetch(left));
    });
    return new Map(fetched.filter((m) => m.source).map((m) => [m.uid, m.source as Buffer]));
  }

  /** Sends the buffered MOVEs, one UID set per folder, after those still under way. */
  private async flush(): Promise<void> {
    const moving = this.moving;
    this.moving = undefined;
    await moving;
    await this.move(this.takePending());
  }

  /**
   * Sends the buffered MOVEs without waiting for the server (a MOVE costs Dovecot tens to
   * hundreds of ms, and the caller has the next mail to work on meanwhile). One such batch
   * at a time; a failure surfaces at the next flush(), by the end of the pass at the latest,
   * and leaves the mail in INBOX, where the record of processed ids stops it acting twice.
   */
  private flushSoon(): void {
    if (this.moving) return;
    const moving = this.move(this.takePending());
    moving.catch(() => {}); // awaited by the next flush()
    this.moving = moving;
  }

  private takePending(): Map<string, Set<number>> {
    const taken = this.pending;
    this.pending = new Map();
    this.pendingSince = 0;
    return taken;
  }

  private async move(pending: Map<string, Set<number>>): Promise<void> {
    for (const [folder, uids] of pending) {
      const set = toSequenceSet([...uids]);
      await this.ensureFolder(folder);
      const tagged = [...uids].filter((uid) => this.toTag.has(uid));
      if (tagged.length > 0) await this.tag(tagged);
      await this.moveSet(set, [...uids], folder);
      pending.delete(folder);
      for (const uid of tagged) this.toTag.delete(uid);
      this.logger.debug('imap: moved', { folder, count: uids.size });
    }
  }

  /**
   * One MOVE, checked: another worker on this INBOX may have moved some of these mails
   * already (or the server expunged them), and a server may then refuse the MOVE or leave
   * the others where they are. What is still in INBOX afterwards is moved again, up to
   * MOVE_ATTEMPTS times; between attempts a NOOP lets the server report what other sessions
   * expunged meanwhile, so that a mail moved by another worker (or by a worker killed in the
   * middle of its MOVE) is not taken for one still here. None left is success; some left
   * after the last attempt is an error (the mail stays in INBOX, where the record of
   * processed ids stops it acting twice).
   */
  private async moveSet(set: string, uids: number[], folder: string): Promise<void> {
    let left = uids;
    let range = set;
    for (let attempt = 1; attempt <= MOVE_ATTEMPTS; attempt++) {
      const moved = await this.client.messageMove(range, folder, { uid: true }).catch(() => false);
      if (!moved || attempt > 1) await this.client.noop().catch(() => undefined);
      left = await this.stillHere(left);
      if (left.length === 0) return;
      this.logger.debug('imap: mail left in INBOX after a MOVE', { folder, count: left.length, attempt, refused: !moved });
      range = toSequenceSet(left);
    }
    throw commandFailed(this.client, this.url, `moving mail to ${folder}`);
  }

  /** Which of these UIDs are still in INBOX (UID SEARCH UID set). */
  private async stillHere(uids: number[]): Promise<number[]> {
    return this.search('checking which mail is still in INBOX', { uid: toSequenceSet(uids) });
  }

  private async ensureFolder(folder: string): Promise<void> {
    if (this.ready.has(folder)) return;
    try {
      await this.client.mailboxCreate(folder); // ALREADYEXISTS (RFC 5530) is fine
    } catch (error) {
      // Servers without RFC 5530 codes answer a plain NO for an existing folder.
      const status = await this.client.status(folder, { messages: true }).catch(() => false);
      if (!status) throw toImapError(error, this.url, `creating folder ${folder}`);
    }
    this.ready.add(folder);
  }

  /** Best effort: a server may refuse new keywords (PERMANENTFLAGS without `\*`, RFC 3501 §7.1). */
  private async tag(uids: number[]): Promise<void> {
    const flags = this.client.mailbox ? this.client.mailbox.permanentFlags : undefined;
    if (flags && !flags.has('\\*') && !flags.has(QUARANTINE_KEYWORD)) return;
    const ok = await this.client.messageFlagsAdd(toSequenceSet(uids), [QUARANTINE_KEYWORD], { uid: true }).catch(() => false);
    if (!ok) this.logger.debug('imap: could not tag quarantined mail', { keyword: QUARANTINE_KEYWORD });
  }

  private async guard<T>(doing: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw toImapError(error, this.url, doing);
    }
  }
}
