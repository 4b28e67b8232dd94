import fs from 'node:fs';
import { readSecret } from '../core/config/config.js';
import type { AgentConfig, RdsConfig } from '../core/config/schema.js';
import { localQuarantineDir } from '../core/mail/pop3.js';
import { storeLedger } from '../core/mail/pop3-ledger.js';
import type { MailInbox, MailSender } from '../core/mail/types.js';
import { type FlushResult, flushOutbox } from '../core/outbox/outbox.js';
import type { Context } from './context.js';

function tlsCa(config: RdsConfig): Buffer | undefined {
  return config.tlsCa ? fs.readFileSync(config.tlsCa) : undefined;
}

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

export async function openMailInbox(ctx: Context): Promise<MailInbox> {
  const { openInbox } = await import('../core/mail/index.js');
  const password = readSecret(ctx.env.RDS_IMAP_PASSWORD, ctx.config.imapPasswordFile, 'IMAP password');
  const ca = tlsCa(ctx.config);
  return openInbox(ctx.config.imap, {
    address: ctx.config.address,
    logger: ctx.logger,
    processedFolder: ctx.config.processedFolder,
    quarantineFolder: ctx.config.quarantineFolder,
    maxMessageSize: ctx.config.maxMessageSize,
    pop3: { ledger: (url) => storeLedger(ctx.db, url, () => ctx.clock.now()), quarantineDir: localQuarantineDir(ctx.config.stateDir) },
    ...(ca ? { ca } : {}),
    ...(password ? { passwordOverride: password } : {}),
  });
}

/** Send whatever the outbox holds (replies of earlier runs included). */
export async function flushAll(ctx: Context): Promise<FlushResult> {
  const { pendingOutbox } = await import('../core/outbox/outbox.js');
  const items = pendingOutbox(ctx.db);
  if (items.length === 0) return { sent: [], failed: [] };
  const sender = await openMailSender(ctx);
  try {
    const build = items.some((i) => i.compose) ? (await import('../core/host/push-all.js')).updateMailBuilder() : undefined;
    return await flushOutbox(ctx.db, sender, { items, logger: ctx.logger, clock: ctx.clock, ...(build ? { build } : {}) });
  } finally {
    await sender.close();
  }
}

export function agentOf(ctx: Context): Context<AgentConfig> {
  return ctx as Context<AgentConfig>;
}
