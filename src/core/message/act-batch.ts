/**
 * Acting on mail in batches (inbound.ts): up to `size` mails' records in one SQLite
 * transaction, each mail under its own savepoint (a mail that fails leaves nothing behind),
 * and their moves out of the inbox only after the commit. A crash before the commit loses
 * no mail: the batch's mails are still in the inbox and nothing of them is recorded, so the
 * next pass takes them again. A batch is committed when full or after `maxOpenMs`, so other
 * writers never wait long. size 1: no transaction of ours, each mail settled at once.
 */
import type { InboxMessage, MailInbox, Settlement } from '../mail/types.js';
import type { Db } from '../store/db.js';

export class ActBatch {
  private open = false;
  private inMail = false;
  private openedAt = 0;
  private done: [InboxMessage, Settlement][] = [];

  constructor(
    private readonly db: Db,
    private readonly inbox: MailInbox,
    private readonly size = 1,
    private readonly maxOpenMs = 250,
  ) {}

  /** One mail's work starts (its writes go into the batch, under a savepoint). */
  enter(): void {
    if (this.size <= 1) return;
    if (!this.open) {
      this.db.exec('BEGIN IMMEDIATE');
      this.open = true;
      this.openedAt = performance.now();
    }
    this.db.exec('SAVEPOINT rds_mail');
    this.inMail = true;
  }

  /** The mail's work is done: kept, and settled after the commit. */
  async keep(message: InboxMessage, settlement: Settlement): Promise<void> {
    if (this.size <= 1) return this.inbox.settle(message, settlement);
    this.db.exec('RELEASE rds_mail');
    this.inMail = false;
    this.done.push([message, settlement]);
    if (this.done.length >= this.size || performance.now() - this.openedAt >= this.maxOpenMs) await this.commit();
  }

  /** The mail's work failed: whatever it wrote is undone. */
  undo(): void {
    if (!this.inMail) return;
    this.inMail = false;
    this.db.exec('ROLLBACK TO rds_mail');
    this.db.exec('RELEASE rds_mail');
  }

  /** Commit what was kept, then move those mails. */
  async commit(): Promise<void> {
    this.undo();
    if (!this.open) return;
    this.db.exec('COMMIT');
    this.open = false;
    const done = this.done;
    this.done = [];
    for (const [message, settlement] of done) await this.inbox.settle(message, settlement);
  }
}
