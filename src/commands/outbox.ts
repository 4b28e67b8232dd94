/**
 * `rds outbox list|retry ID|drop ID` (both roles): every mail this node queued and did not
 * send yet, those refused for good, and those sent lately; how often each was tried and
 * the last server answer (src/core/outbox/view.ts). Nothing is ever deleted: a drop marks
 * the item `dropped`.
 */
import { UsageError } from '../core/errors.js';
import { dropItem, listOutbox, type OutboxEntry, pendingOutbox, requeueItem } from '../core/outbox/outbox.js';
import { describeEntry, entryNow, oneLine, outboxTable, RECENT_MS, unsentEntry } from '../core/outbox/view.js';
import { type Context, openContext } from './context.js';
import { mailExitCode, mailLine, sendNow, summariseMail } from './mail-context.js';
import type { OptionsOf } from './specs/define.js';
import type { outboxDrop, outboxList, outboxRetry } from './specs/queues.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function runList(options: OptionsOf<typeof outboxList>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'outbox list');
  try {
    const since = options.all ? undefined : new Date(ctx.clock.now().getTime() - RECENT_MS);
    const items = listOutbox(ctx.db, since);
    const { counts, text } = outboxTable(items, Boolean(options.all));
    return { data: { items, ...counts }, text };
  } finally {
    ctx.close();
  }
}

/** retry and drop: the unsent item the argument names, under the `outbox` lock, the context closed after `fn`. */
async function withUnsent(
  globals: GlobalOptions,
  command: string,
  arg: string | undefined,
  sentNote: string,
  fn: (ctx: Context, entry: OutboxEntry) => Promise<CommandResult>,
): Promise<CommandResult> {
  const ctx = await openContext(globals, command, { lock: ['outbox'] });
  try {
    return await fn(ctx, unsentEntry(ctx.db, arg, sentNote));
  } finally {
    ctx.close();
  }
}

/** A failed or dropped item back to the queue, then tried at once (only this one). */
export async function runRetry(options: OptionsOf<typeof outboxRetry>, globals: GlobalOptions): Promise<CommandResult> {
  return withUnsent(globals, 'outbox retry', options.args[0], 'nothing to retry', async (ctx, entry) => {
    if (entry.state === 'held') {
      throw new UsageError(
        'OUTBOX_HELD',
        `outbox item ${describeEntry(entry)} is held: its rollout is paused or halted (rds rollout resume)`,
      );
    }
    if (entry.state !== 'queued') requeueItem(ctx.db, entry.seq);
    const item = pendingOutbox(ctx.db).find((i) => i.seq === entry.seq);
    if (!item) throw new UsageError('UNKNOWN_OUTBOX_ITEM', `outbox item #${entry.seq} is not queued any more`);
    const mail = summariseMail(ctx, await sendNow(ctx, [item]));
    const after = entryNow(ctx.db, entry.seq);
    const head =
      after.state === 'sent'
        ? `sent ${describeEntry(after)}`
        : after.state === 'failed'
          ? `refused again for good: ${describeEntry(after)}: ${after.endedReason ?? ''}`
          : `still queued: ${describeEntry(after)}`;
    return { exitCode: mailExitCode(0, mail), data: { item: after, mail }, text: `${head}\n${mailLine(mail)}` };
  });
}

/** Mark an unsent item dropped (never deleted): it is not tried again. */
export async function runDrop(options: OptionsOf<typeof outboxDrop>, globals: GlobalOptions): Promise<CommandResult> {
  return withUnsent(globals, 'outbox drop', options.args[0], 'it cannot be dropped', async (ctx, entry) => {
    if (entry.state === 'dropped') throw new UsageError('OUTBOX_ALREADY_DROPPED', `outbox item ${describeEntry(entry)} is dropped already`);
    const reason = `dropped by rds outbox drop${entry.state === 'failed' ? ` (had failed: ${oneLine(entry.endedReason)})` : ''}`;
    dropItem(ctx.db, entry.seq, reason, ctx.clock.now());
    const after = entryNow(ctx.db, entry.seq);
    return { data: { dropped: after }, text: `dropped ${describeEntry(after)}; it is kept in the store, never sent` };
  });
}
