/**
 * `rds outbox list|retry ID|drop ID` (both roles): every mail this node queued and did not
 * send yet, those refused for good, and those sent lately; how often each was tried and
 * the last server answer. Nothing is ever deleted: a drop marks the item `dropped`.
 */
import { UsageError } from '../core/errors.js';
import { endItem, findOutboxEntry, flushOutbox, listOutbox, type OutboxEntry, pendingOutbox, requeueItem } from '../core/outbox/outbox.js';
import { showText } from '../core/text/show.js';
import { type Context, openContext } from './context.js';
import { mailExitCode, mailLine, openMailSender, summariseMail } from './mail-context.js';
import type { OptionsOf } from './specs/define.js';
import type { outboxDrop, outboxList, outboxRetry } from './specs/queues.js';
import { formatTable, formatTime, formatTimeZoned, timeColumn } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

const RECENT_MS = 24 * 60 * 60 * 1000;

export async function runList(options: OptionsOf<typeof outboxList>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'outbox list');
  try {
    const since = options.all ? undefined : new Date(ctx.clock.now().getTime() - RECENT_MS);
    const items = listOutbox(ctx.db, since);
    const counts = { queued: 0, failed: 0, dropped: 0, sent: 0, held: 0 };
    for (const i of items) counts[i.state]++;
    const text =
      items.length === 0
        ? `the outbox is empty (nothing queued, failed or sent in the last 24 hours${options.all ? '' : '; --all shows every sent mail'})`
        : `${formatTable(
            ['ID', 'Kind', 'To', timeColumn('Created'), 'Attempts', 'State', 'Last server answer'],
            items.map((i) => [
              String(i.seq),
              showText(i.kind),
              showText(i.to.join(',')),
              i.createdAt,
              String(i.attempts),
              i.state === 'sent' ? `sent ${formatTime(i.sentAt)}` : i.state,
              showText(oneLine(i.state === 'failed' || i.state === 'dropped' ? (i.endedReason ?? i.lastError) : i.lastError)),
            ]),
          )}\n${counts.queued} queued, ${counts.failed} failed, ${counts.dropped} dropped, ${counts.sent} sent${options.all ? '' : ' in the last 24 hours'}`;
    return { data: { items, ...counts }, text };
  } finally {
    ctx.close();
  }
}

function oneLine(text: string | null): string {
  if (!text) return '';
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

function requireEntry(ctx: Context, id: string | undefined): OutboxEntry {
  if (!id) throw new UsageError('MISSING_ARGUMENT', 'name the outbox item: its ID or message id from rds outbox list');
  const entry = findOutboxEntry(ctx.db, id);
  if (!entry) throw new UsageError('UNKNOWN_OUTBOX_ITEM', `no outbox item '${showText(id.slice(0, 80))}' (rds outbox list shows the IDs)`);
  return entry;
}

function describe(e: OutboxEntry): string {
  return `#${e.seq} ${e.kind} to ${e.to.join(',')} (${e.messageId}, queued ${formatTimeZoned(e.createdAt)}, ${e.attempts} attempt(s))`;
}

/** A failed or dropped item back to the queue, then tried at once (only this one). */
export async function runRetry(options: OptionsOf<typeof outboxRetry>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'outbox retry', { lock: ['outbox'] });
  try {
    const entry = requireEntry(ctx, options.args[0]);
    if (entry.state === 'sent') {
      throw new UsageError(
        'OUTBOX_ALREADY_SENT',
        `outbox item ${describe(entry)} was sent at ${formatTime(entry.sentAt)}; nothing to retry`,
      );
    }
    if (entry.state === 'held') {
      throw new UsageError('OUTBOX_HELD', `outbox item ${describe(entry)} is held: its rollout is paused or halted (rds rollout resume)`);
    }
    if (entry.state !== 'queued') requeueItem(ctx.db, entry.seq);
    const item = pendingOutbox(ctx.db).find((i) => i.seq === entry.seq);
    if (!item) throw new UsageError('UNKNOWN_OUTBOX_ITEM', `outbox item #${entry.seq} is not queued any more`);
    const sender = await openMailSender(ctx);
    let flushed: Awaited<ReturnType<typeof flushOutbox>>;
    try {
      const build = item.compose ? (await import('../core/outbox/update-mail.js')).updateMailBuilder() : undefined;
      flushed = await flushOutbox(ctx.db, sender, {
        items: [item],
        logger: ctx.logger,
        clock: ctx.clock,
        ...(build ? { build } : {}),
      });
    } finally {
      await sender.close();
    }
    const mail = summariseMail(ctx, flushed);
    const after = findOutboxEntry(ctx.db, String(entry.seq)) as OutboxEntry;
    const head =
      after.state === 'sent'
        ? `sent ${describe(after)}`
        : after.state === 'failed'
          ? `refused again for good: ${describe(after)}: ${after.endedReason ?? ''}`
          : `still queued: ${describe(after)}`;
    return { exitCode: mailExitCode(0, mail), data: { item: after, mail }, text: `${head}\n${mailLine(mail)}` };
  } finally {
    ctx.close();
  }
}

/** Mark an unsent item dropped (never deleted): it is not tried again. */
export async function runDrop(options: OptionsOf<typeof outboxDrop>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'outbox drop', { lock: ['outbox'] });
  try {
    const entry = requireEntry(ctx, options.args[0]);
    if (entry.state === 'sent') {
      throw new UsageError(
        'OUTBOX_ALREADY_SENT',
        `outbox item ${describe(entry)} was sent at ${formatTime(entry.sentAt)}; it cannot be dropped`,
      );
    }
    if (entry.state === 'dropped') throw new UsageError('OUTBOX_ALREADY_DROPPED', `outbox item ${describe(entry)} is dropped already`);
    const reason = `dropped by rds outbox drop${entry.state === 'failed' ? ` (had failed: ${oneLine(entry.endedReason)})` : ''}`;
    if (entry.state === 'failed' || entry.state === 'held') {
      ctx.db
        .prepare("UPDATE outbox SET state = 'dropped', ended_at = ?, ended_reason = ? WHERE seq = ?")
        .run(ctx.clock.now().toISOString(), reason, entry.seq);
    } else endItem(ctx.db, entry.seq, 'dropped', reason, ctx.clock.now());
    const after = findOutboxEntry(ctx.db, String(entry.seq)) as OutboxEntry;
    return { data: { dropped: after }, text: `dropped ${describe(after)}; it is kept in the store, never sent` };
  } finally {
    ctx.close();
  }
}
