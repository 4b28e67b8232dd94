import type { HostConfig } from '../core/config/schema.js';
import { receiveExitCode } from '../core/message/inbound.js';
import type { Context } from './context.js';
import { openContext } from './context.js';
import type { LockPlan } from './context-locks.js';
import { runEvery } from './every.js';
import { takeInMail } from './host-inbox.js';
import { flushAll, type MailSummary, mailExitCode, mailLine, summariseMail } from './mail-context.js';
import { runServicePass, servicePassLines } from './service-pass.js';
import type { OptionsOf } from './specs/define.js';
import type { inbox } from './specs/host.js';
import type { CommandResult, GlobalOptions } from './types.js';

/**
 * One inbox pass: take in agent mail, run the service checks, then (`beforeFlush`: what a
 * caller queues on top, e.g. `rollout advance`) flush everything queued; its lines, data and
 * exit code. Shared by `rds inbox` and `rds rollout advance`.
 */
export async function inboxPass<T>(
  ctx: Context<HostConfig>,
  max: number | undefined,
  beforeFlush: () => Promise<T>,
  worker = false,
): Promise<{ exitCode: number; data: Record<string, unknown>; lines: string[]; mail: MailSummary; extra: T }> {
  const received = await takeInMail(ctx, max, worker);
  const service = await runServicePass(ctx, { alerts: true });
  const extra = await beforeFlush();
  const mail = summariseMail(ctx, await flushAll(ctx)); // acks queued by the handlers, alert mail (and earlier runs' mail)
  const exitCode = mailExitCode(receiveExitCode(received, false), mail);
  const counts = new Map<string, number>();
  for (const p of received.processed) counts.set(p.type, (counts.get(p.type) ?? 0) + 1);
  const lines = [...counts].map(([type, n]) => `${n} ${type}`);
  if (received.alreadyDone.length > 0) lines.push(`${received.alreadyDone.length} taken in by an earlier pass: moved`);
  if (received.takenByOther.length > 0)
    lines.push(`${received.takenByOther.length} taken in by another worker meanwhile: left for it to move`);
  for (const q of received.quarantined) lines.push(`quarantined ${q.code}: ${q.reason}`);
  for (const f of received.failed) lines.push(`left in the inbox (a bug, see the log): ${f.error}`);
  lines.push(...servicePassLines(service));
  return { exitCode, data: { ...received, service, mail }, lines, mail, extra };
}

/** The locks of an inbox pass (docs/locks.md); a worker shares the mailbox and only sends alone. */
export function inboxLocks(options: { every?: string; worker?: boolean }): LockPlan {
  if (options.worker) return { perPass: ['outbox'] };
  return options.every ? { perPass: ['mailbox', 'outbox'] } : ['mailbox'];
}

export async function run(options: OptionsOf<typeof inbox>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'inbox', { role: 'host', lock: inboxLocks(options) });
  try {
    return await runEvery(options.every, ctx.logger, async () => {
      const pass = await inboxPass(ctx, options.max ? Number(options.max) : undefined, async () => undefined, options.worker === true);
      const line = mailLine(pass.mail);
      if (line) pass.lines.push(line);
      return { exitCode: pass.exitCode, data: pass.data, text: pass.lines.length > 0 ? pass.lines.join('\n') : 'no mail' };
    });
  } finally {
    ctx.close();
  }
}
