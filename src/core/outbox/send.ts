import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { MailPieces, MailSender } from '../mail/types.js';
import type { Db } from '../store/db.js';
import { type FlushResult, flushOutbox, type OutboxItem } from './outbox.js';

/**
 * Send these queued items through an open sender; an update mail kept as a recipe is built
 * as it goes (update-mail.ts, loaded only when one is there).
 */
export async function sendItems(
  db: Db,
  sender: MailSender,
  items: OutboxItem[] | AsyncIterator<OutboxItem>,
  options: { logger: Logger; clock: Clock },
): Promise<FlushResult> {
  const common = { logger: options.logger, clock: options.clock };
  if (!Array.isArray(items)) return flushOutbox(db, sender, { source: items, build: lazyBuilder(), ...common });
  const build = items.some((i) => i.compose) ? (await import('./update-mail.js')).updateMailBuilder() : undefined;
  return flushOutbox(db, sender, { items, ...common, ...(build ? { build } : {}) });
}

/** For items read as they go: the update-mail builder loaded when the first recipe comes. */
function lazyBuilder(): (item: OutboxItem) => Promise<Buffer | MailPieces> {
  let builder: Promise<(item: OutboxItem) => Promise<Buffer | MailPieces>> | undefined;
  return async (item) => {
    if (!item.compose) throw new Error(`outbox item ${item.messageId} has no raw mail and no recipe`);
    builder ??= import('./update-mail.js').then((m) => m.updateMailBuilder());
    return (await builder)(item);
  };
}
