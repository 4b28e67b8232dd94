/**
 * The mail a command sends and takes in: its sender, its mailbox (mail-inbox.ts), the outbox
 * flushed under the `outbox` lock, and what it all did (src/core/outbox/summary.ts).
 */
import { readSecret } from '../core/config/config.js';
import type { AgentConfig } from '../core/config/schema.js';
import { isRdsError } from '../core/errors.js';
import type { MailSender } from '../core/mail/types.js';
import { countPending, type FlushResult, type OutboxItem, pendingPages, stopsFlush } from '../core/outbox/outbox.js';
import { type MailSummary, summariseFlushes } from '../core/outbox/summary.js';
import type { Context } from './context.js';
import { tlsCa } from './mail-inbox.js';

export { type MailSummary, mailExitCode, mailLine } from '../core/outbox/summary.js';
export { openMailInbox } from './mail-inbox.js';

export async function openMailSender(ctx: Context): Promise<MailSender> {
  const { openSender } = await import('../core/mail/index.js');
  const password = readSecret(ctx.env.RDS_SMTP_PASSWORD, ctx.config.smtpPasswordFile, 'SMTP password');
  const ca = tlsCa(ctx.config);
  return openSender(ctx.config.smtp, {
    logger: ctx.logger,
    maxMessageSize: ctx.config.maxMessageSize,
    ...(ca ? { ca } : {}),
    ...(password ? { passwordOverride: password } : {}),
  });
}

/**
 * Send these items now, on a sender opened for them. `stopOnOpen`: a sender that cannot be
 * opened (server unreachable, login, TLS) comes back as `stopped` instead of thrown.
 */
export async function sendNow(ctx: Context, items: OutboxItem[] | AsyncIterator<OutboxItem>, stopOnOpen = false): Promise<FlushResult> {
  let sender: MailSender;
  try {
    sender = await openMailSender(ctx);
  } catch (error) {
    if (stopOnOpen && isRdsError(error) && stopsFlush(error)) return { sent: [], failed: [], stopped: error };
    throw error;
  }
  try {
    // loaded when something is sent: an empty cron pass has nothing to send (issue 13)
    const { sendItems } = await import('../core/outbox/send.js');
    return await sendItems(ctx.db, sender, items, ctx);
  } finally {
    await sender.close();
  }
}

/**
 * Send whatever the outbox holds (replies of earlier runs included). A server that cannot
 * be reached, defers (4xx) or refuses the login/TLS comes back as `stopped`, not thrown:
 * the command still reports what it did and exits by the one rule of `mailExitCode`.
 * Under the `outbox` lock: while another pass sends (push-all), this one sends nothing
 * and the mail stays queued for the next run (docs/locks.md), never sent twice. An empty
 * outbox is seen without the lock.
 */
export async function flushAll(ctx: Context): Promise<FlushResult> {
  // nothing queued: no lock to take (an empty cron pass, issue 13); what another pass queues
  // after this count is its own to send, or the next pass's. Counted again under the lock.
  if (countPending(ctx.db) === 0) return { sent: [], failed: [] };
  const lock = ctx.locks.take('outbox');
  if (!lock) {
    ctx.logger.debug('outbox busy (another pass sends): the mail stays queued');
    return { sent: [], failed: [] };
  }
  try {
    // read page by page as it goes (outbox.ts pendingPages): 10,000 queued mails are not all held at once
    return countPending(ctx.db) === 0 ? { sent: [], failed: [] } : await sendNow(ctx, pendingPages(ctx.db), true);
  } finally {
    lock.release();
  }
}

/** What the mail of this command did (the flushes that ran), with what is still queued. */
export function summariseMail(ctx: Context, ...flushes: (FlushResult | undefined)[]): MailSummary {
  return summariseFlushes(ctx.db, flushes);
}

export function agentOf(ctx: Context): Context<AgentConfig> {
  return ctx as Context<AgentConfig>;
}
