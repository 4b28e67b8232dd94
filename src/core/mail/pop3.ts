/**
 * The POP3 inbox (`pop3://`, `pop3s://`): the original system's protocol. POP3 has no
 * folders and no flags, so what IMAP keeps on the server rds keeps itself:
 *
 * - **Which mail was handled** is recorded by UIDL (RFC 1939 §7) in the state store (the
 *   ledger, pop3-ledger.ts) before the mail is marked for deletion. A mail whose UIDL is
 *   recorded is never handed out again: when a pass was cut between handling and the
 *   server's deletion (DELE only takes effect at QUIT), the next pass just deletes it.
 * - **Quarantine** is a local folder in the state dir: the mail is written there (0600,
 *   never through a planted symlink) with its reason beside it before it is deleted from
 *   the server. A mail too large to download is left on the server, recorded with its
 *   reason, and not handed out again: nothing is ever lost.
 * - **Processed** mail is deleted from the server once recorded: there is no folder to
 *   move it to (leave-on-server clients keep mail for a mail reader; rds is not one).
 */
import path from 'node:path';
import { mkdirNoFollow, replaceFileSafely } from '../fs/trust.js';
import { type Logger, silentLogger } from '../logger.js';
import { Pop3Client } from './pop3-client.js';
import type { InboxMessage, MailInbox, Settlement } from './types.js';
import type { ServerMailUrl } from './url.js';

export interface Pop3Ledger {
  /** how an earlier pass settled this UIDL, if it did */
  settled(uidl: string): 'processed' | 'quarantined' | 'kept' | undefined;
  record(uidl: string, kind: 'processed' | 'quarantined' | 'kept', reason?: string): void;
  /** forget UIDLs the server no longer lists (deleted for good) */
  forgetExcept(present: ReadonlySet<string>): void;
}

export interface Pop3InboxOptions {
  ledger: Pop3Ledger;
  /** the local quarantine folder (in the state dir) */
  quarantineDir: string;
  ca?: string | Buffer;
  timeoutMs?: number;
  maxMessageSize?: number;
  logger?: Logger;
}

export class Pop3Inbox implements MailInbox {
  private client: Pop3Client | undefined;
  private numbers = new Map<string, number>();

  constructor(
    private readonly url: ServerMailUrl,
    private readonly options: Pop3InboxOptions,
  ) {}

  async *messages(options: { max?: number; maxSize?: number } = {}): AsyncIterable<InboxMessage> {
    const client = await this.connect();
    const listing = await client.listing();
    const { ledger } = this.options;
    ledger.forgetExcept(new Set(listing.map((m) => m.uidl)));
    let handed = 0;
    for (const m of listing) {
      this.numbers.set(m.uidl, m.n);
      const before = ledger.settled(m.uidl);
      if (before === 'kept') continue; // too large: stays on the server, already quarantined
      if (before) {
        // handled by an earlier pass that did not reach QUIT: delete, never act again
        await client.dele(m.n);
        this.log().info('pop3: deleting mail handled by an earlier pass', { uidl: m.uidl });
        continue;
      }
      if (options.max !== undefined && handed >= options.max) break;
      handed++;
      if (m.size > (options.maxSize ?? Number.POSITIVE_INFINITY)) {
        yield { uid: m.uidl, raw: Buffer.alloc(0), size: m.size };
        continue;
      }
      const raw = await client.retr(m.n);
      yield { uid: m.uidl, raw, size: raw.length };
    }
  }

  async settle(message: InboxMessage, settlement: Settlement): Promise<void> {
    const client = await this.connect();
    const n = this.numbers.get(message.uid);
    if (n === undefined) throw new Error(`POP3 message ${message.uid} was not handed out by this session`);
    const { ledger } = this.options;
    if (settlement.kind === 'quarantined') {
      if (message.raw.length === 0 && message.size > 0) {
        // not downloaded (too large): keep it on the server, with the reason here
        this.writeQuarantine(message.uid, undefined, `${settlement.reason} (left on the server: ${message.size} bytes)`);
        ledger.record(message.uid, 'kept', settlement.reason);
        return;
      }
      this.writeQuarantine(message.uid, message.raw, settlement.reason);
      ledger.record(message.uid, 'quarantined', settlement.reason);
    } else {
      ledger.record(message.uid, 'processed');
    }
    await client.dele(n);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.quit().catch(() => client.destroy());
  }

  private async connect(): Promise<Pop3Client> {
    this.client ??= await Pop3Client.open(this.url, {
      ...(this.options.ca ? { ca: this.options.ca } : {}),
      ...(this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {}),
      ...(this.options.maxMessageSize ? { maxMessageSize: this.options.maxMessageSize } : {}),
    });
    return this.client;
  }

  private writeQuarantine(uidl: string, raw: Buffer | undefined, reason: string): void {
    const dir = this.options.quarantineDir;
    mkdirNoFollow(path.dirname(dir));
    mkdirNoFollow(dir);
    const base = quarantineName(uidl);
    if (raw) replaceFileSafely(path.join(dir, `${base}.eml`), raw, 0o600);
    replaceFileSafely(path.join(dir, `${base}.reason`), `${reason.replace(/[\r\n]+/g, ' ')}\n`, 0o600);
  }

  private log(): Logger {
    return this.options.logger ?? silentLogger;
  }
}

/** A UIDL is up to 70 printable characters chosen by the server: make it a safe file name. */
export function quarantineName(uidl: string): string {
  return `pop3-${uidl.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}`;
}

export function localQuarantineDir(stateDir: string): string {
  return path.join(stateDir, 'quarantine', 'pop3');
}
