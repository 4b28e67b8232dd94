import { agentHandlers } from '../core/agent/handlers.js';
import { REFUSAL, type TransientError } from '../core/errors.js';
import { normaliseAddress } from '../core/message/accept.js';
import { receiveExitCode, receiveMessages, wasProcessed } from '../core/message/inbound.js';
import { agentHandlerContext } from './agent-handler-context.js';
import { openContext } from './context.js';
import { runEvery } from './every.js';
import { flushAll, openMailInbox } from './mail-context.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: { every?: string; max?: string }, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'poll-mail', { role: 'agent', lock: 'poll-mail' });
  try {
    const handlerCtx = await agentHandlerContext(ctx);
    const { deviceHandlers } = await import('../core/agent/device-handlers.js');
    const handlers = agentHandlers(handlerCtx, deviceHandlers(handlerCtx));
    const pass = async (): Promise<CommandResult> => {
      const before = await flushAll(ctx).catch((error) => ({ sent: [], failed: [], transient: error as TransientError }));
      const inbox = await openMailInbox(ctx);
      let received: Awaited<ReturnType<typeof receiveMessages>>;
      try {
        received = await receiveMessages({
          db: ctx.db,
          inbox,
          handlers,
          maxMessageSize: ctx.config.maxMessageSize,
          ...(options.max ? { maxMessages: Number(options.max) } : {}),
          clock: ctx.clock,
          logger: ctx.logger,
          policy: {
            selfId: ctx.config.id,
            // read the key each time: a key-rotation message re-pins it mid-pass
            sendersFor: (address) =>
              address === normaliseAddress(ctx.config.hostAddress)
                ? [{ id: ctx.config.hostId, address: ctx.config.hostAddress, key: handlerCtx.hostKey }]
                : [],
            unknownSenderCode: REFUSAL.SENDER_MISMATCH,
            acceptBroadcast: true,
            wasProcessed: (id) => wasProcessed(ctx.db, id),
            clock: ctx.clock,
            skewMs: ctx.skewMs,
          },
        });
      } finally {
        await inbox.close();
      }
      const after = before.transient ? before : await flushAll(ctx);
      const transient = after.transient;
      const exitCode = receiveExitCode(received, Boolean(transient));
      const lines = [
        ...received.processed.map((p) => `${p.type} ${p.id}: ${p.outcome}`),
        ...received.quarantined.map((q) => `quarantined ${q.code}: ${q.reason}`),
        ...received.failed.map((f) => `left in the inbox (a bug, see the log): ${f.error}`),
      ];
      if (transient) lines.push(`mail server unreachable, replies stay queued: ${transient.message}`);
      return {
        exitCode,
        data: {
          processed: received.processed,
          quarantined: received.quarantined,
          sent: before.sent.length + (after === before ? 0 : after.sent.length),
          transient: transient?.message,
        },
        text: lines.length > 0 ? lines.join('\n') : 'no mail',
      };
    };
    return await runEvery(options.every, ctx.logger, pass);
  } finally {
    ctx.close();
  }
}
