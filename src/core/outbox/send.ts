import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { MailSender } from '../mail/types.js';
import type { Db } from '../store/db.js';
import { type FlushResult, flushOutbox, type OutboxItem } from './outbox.js';

/**
 * Send these queued items through an open sender; an update mail kept as a recipe is built
 * as it goes (update-mail.ts, loaded only when one is there).
 */
export async function sendItems(
  db: Db,
  sender: MailSender,
  items: OutboxItem[],
  options: { logger: Logger; clock: Clock },
): Promise<FlushResult> {
  const build = items.some((i) => i.compose) ? (await import('./update-mail.js')).updateMailBuilder() : undefined;
  return flushOutbox(db, sender, { items, logger: options.logger, clock: options.clock, ...(build ? { build } : {}) });
}
