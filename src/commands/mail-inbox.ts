import fs from 'node:fs';
import { readSecret } from '../core/config/config.js';
import type { RdsConfig } from '../core/config/schema.js';
import type { InboxOptions } from '../core/mail/index.js';
import type { MailInbox } from '../core/mail/types.js';
import type { Context } from './context.js';

/** The private CA the config names for mail TLS, if any. */
export function tlsCa(config: RdsConfig): Buffer | undefined {
  return config.tlsCa ? fs.readFileSync(config.tlsCa) : undefined;
}

/** Nothing to take in: the mailbox is being read by another pass, which handles its mail. */
const busyMailbox: MailInbox = {
  messages: async function* () {},
  settle: async () => {},
  close: async () => {},
};

/**
 * This node's mailbox, under the `mailbox` lock (docs/locks.md): held by the command, or
 * taken until `close()`. When another pass holds it, an inbox with nothing in it: that
 * pass takes the mail in (into the same state store), never both. `worker`: one of several
 * host workers sharing the mailbox (docs/deployment.md#workers): no lock, the store's claims
 * keep each mail acted on once.
 */
export async function openMailInbox(ctx: Context, worker = false): Promise<MailInbox> {
  const lock = worker ? { release: () => {} } : ctx.locks.take('mailbox');
  if (!lock) {
    ctx.logger.debug('mailbox busy (another pass reads it): nothing taken in this pass');
    return busyMailbox;
  }
  try {
    const inbox = await connectInbox(ctx, worker);
    return {
      messages: (options) => inbox.messages(options),
      settle: (message, settlement) => inbox.settle(message, settlement),
      close: async () => {
        try {
          await inbox.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function connectInbox(ctx: Context, spread: boolean): Promise<MailInbox> {
  const { openInbox } = await import('../core/mail/index.js');
  const password = readSecret(ctx.env.RDS_IMAP_PASSWORD, ctx.config.imapPasswordFile, 'IMAP password');
  const ca = tlsCa(ctx.config);
  return openInbox(ctx.config.imap, {
    address: ctx.config.address,
    logger: ctx.logger,
    processedFolder: ctx.config.processedFolder,
    quarantineFolder: ctx.config.quarantineFolder,
    maxMessageSize: ctx.config.maxMessageSize,
    ...(spread ? { spread } : {}),
    ...(/^pop3s?:/i.test(ctx.config.imap) ? { pop3: await pop3Options(ctx) } : {}),
    ...(ca ? { ca } : {}),
    ...(password ? { passwordOverride: password } : {}),
  });
}

/** A POP3 inbox's local record of handled mail and its quarantine (loaded for a pop3:// inbox only). */
async function pop3Options(ctx: Context): Promise<NonNullable<InboxOptions['pop3']>> {
  const [{ localQuarantineDir }, { storeLedger }] = await Promise.all([
    import('../core/mail/pop3.js'),
    import('../core/mail/pop3-ledger.js'),
  ]);
  return { ledger: (url) => storeLedger(ctx.db, url, () => ctx.clock.now()), quarantineDir: localQuarantineDir(ctx.config.stateDir) };
}
