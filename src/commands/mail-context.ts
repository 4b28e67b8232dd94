import fs from 'node:fs';
import { readSecret } from '../core/config/config.js';
import type { AgentConfig, RdsConfig } from '../core/config/schema.js';
import { EXIT, isRdsError } from '../core/errors.js';
import { localQuarantineDir } from '../core/mail/pop3.js';
import { storeLedger } from '../core/mail/pop3-ledger.js';
import type { MailInbox, MailSender } from '../core/mail/types.js';
import { countPending, type FlushResult, flushOutbox, stopsFlush } from '../core/outbox/outbox.js';
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

/** Nothing to take in: the mailbox is being read by another pass, which handles its mail. */
const busyMailbox: MailInbox = {
  messages: async function* () {},
  settle: async () => {},
  close: async () => {},
};

/**
 * This node's mailbox, under the `mailbox` lock (docs/locks.md): held by the command, or
 * taken until `close()`. When another pass holds it, an inbox with nothing in it: that
 * pass takes the mail in (into the same state store), never both.
 */
export async function openMailInbox(ctx: Context): Promise<MailInbox> {
  const lock = ctx.locks.take('mailbox');
  if (!lock) {
    ctx.logger.debug('mailbox busy (another pass reads it): nothing taken in this pass');
    return busyMailbox;
  }
  try {
    const inbox = await connectInbox(ctx);
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

async function connectInbox(ctx: Context): Promise<MailInbox> {
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

/**
 * Send whatever the outbox holds (replies of earlier runs included). A server that cannot
 * be reached, defers (4xx) or refuses the login/TLS comes back as `stopped`, not thrown:
 * the command still reports what it did and exits by the one rule of `mailExitCode`.
 * Under the `outbox` lock: while another pass sends (push-all), this one sends nothing
 * and the mail stays queued for the next run (docs/locks.md), never sent twice.
 */
export async function flushAll(ctx: Context): Promise<FlushResult> {
  const lock = ctx.locks.take('outbox');
  if (!lock) {
    ctx.logger.debug('outbox busy (another pass sends): the mail stays queued');
    return { sent: [], failed: [] };
  }
  try {
    return await flushQueued(ctx);
  } finally {
    lock.release();
  }
}

async function flushQueued(ctx: Context): Promise<FlushResult> {
  const { pendingOutbox } = await import('../core/outbox/outbox.js');
  const items = pendingOutbox(ctx.db);
  if (items.length === 0) return { sent: [], failed: [] };
  let sender: MailSender;
  try {
    sender = await openMailSender(ctx);
  } catch (error) {
    if (isRdsError(error) && stopsFlush(error)) return { sent: [], failed: [], stopped: error };
    throw error;
  }
  try {
    const build = items.some((i) => i.compose) ? (await import('../core/outbox/update-mail.js')).updateMailBuilder() : undefined;
    return await flushOutbox(ctx.db, sender, { items, logger: ctx.logger, clock: ctx.clock, ...(build ? { build } : {}) });
  } finally {
    await sender.close();
  }
}

/** What the mail of one command did: the `mail` member of every sending command's --json. */
export interface MailSummary {
  sent: number;
  /** everything still waiting in the outbox after this command (earlier runs' mail too) */
  queued: number;
  /** refused this time; `ended`: for good (the item is failed), else it stays queued */
  failed: { to: string; kind: string; error: string; ended: boolean }[];
  /** why the rest stays queued: server unreachable / 4xx (exit 3), login, TLS or URL (exit 2) */
  stopped?: { code: string; message: string; exitCode: number };
}

export function summariseMail(ctx: Context, ...flushes: (FlushResult | undefined)[]): MailSummary {
  const done = flushes.filter((f): f is FlushResult => f !== undefined);
  const stopped = done.find((f) => f.stopped)?.stopped;
  return {
    sent: done.reduce((n, f) => n + f.sent.length, 0),
    queued: countPending(ctx.db),
    failed: done.flatMap((f) =>
      f.failed.map((x) => ({ to: x.item.envelope.to.join(','), kind: x.item.kind, error: x.error, ended: x.ended })),
    ),
    ...(stopped ? { stopped: { code: stopped.code, message: stopped.message, exitCode: stopped.exitCode } } : {}),
  };
}

/**
 * The one line every sending command prints: how many mails went out, how many are still
 * queued and why, and which were refused. Empty when there was nothing to send.
 */
export function mailLine(mail: MailSummary): string {
  if (mail.sent === 0 && mail.queued === 0 && mail.failed.length === 0) return '';
  const parts = [`${mail.sent} sent`];
  const ended = mail.failed.filter((f) => f.ended);
  if (ended.length > 0) {
    parts.push(`${ended.length} failed for good (${ended.map((f) => `to ${f.to}: ${f.error}`).join('; ')}; see rds outbox list)`);
  }
  if (mail.queued > 0) {
    const why = mail.stopped
      ? mail.stopped.exitCode === EXIT.USAGE
        ? `${mail.stopped.message}; fix the config, they go out on the next run`
        : `${mail.stopped.message}; they go out on the next run`
      : 'sent on the next run';
    parts.push(`${mail.queued} still queued: ${why}`);
  }
  return `mail: ${parts.join(', ')}`;
}

/**
 * The one exit rule of sending commands: mail that could not go out because of the config
 * (login, TLS, URL) is 2 and because of the server (unreachable, 4xx) 3, whatever else the
 * command did; then the command's own code; then 1 when a mail was refused for good.
 */
export function mailExitCode(commandExit: number, mail: MailSummary): number {
  if (mail.stopped) return mail.stopped.exitCode;
  if (commandExit !== EXIT.OK) return commandExit;
  return mail.failed.length > 0 ? EXIT.FAILED : EXIT.OK;
}

export function agentOf(ctx: Context): Context<AgentConfig> {
  return ctx as Context<AgentConfig>;
}
