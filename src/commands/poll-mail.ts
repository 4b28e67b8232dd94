import { installStagedIfDue } from '../core/agent/deferred-update.js';
import { agentHandlers } from '../core/agent/handlers.js';
import { EXIT, REFUSAL } from '../core/errors.js';
import { normaliseAddress } from '../core/message/accept.js';
import { receiveExitCode, receiveMessages, wasProcessed } from '../core/message/inbound.js';
import { UPDATE } from '../core/protocol/update.js';
import { agentHandlerContext } from './agent-handler-context.js';
import { openContext } from './context.js';
import { runEvery } from './every.js';
import { flushAll, mailExitCode, mailLine, openMailInbox, summariseMail } from './mail-context.js';
import type { pollMail } from './specs/agent.js';
import type { OptionsOf } from './specs/define.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: OptionsOf<typeof pollMail>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'poll-mail', {
    role: 'agent',
    lock: options.every ? { perPass: ['mailbox', 'outbox'] } : ['mailbox'],
  });
  try {
    const handlerCtx = await agentHandlerContext(ctx);
    const { deviceHandlers } = await import('../core/agent/device-handlers.js');
    const handlers = agentHandlers(handlerCtx, deviceHandlers(handlerCtx));
    const pass = async (): Promise<CommandResult> => {
      const before = await flushAll(ctx); // replies of earlier runs
      // an update staged outside the install window installs once it is open, mail or not
      const staged = await installStagedIfDue(handlerCtx);
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
      const after = before.stopped ? undefined : await flushAll(ctx);
      const mail = summariseMail(ctx, before, after);
      // README's table: an install that rolled back is 1 ("done, but something failed"),
      // below refused mail (4); the mail rule of mailExitCode comes first
      const rolledBack =
        staged?.outcome === 'rolled-back' || received.processed.some((p) => p.type === UPDATE && p.outcome === 'rolled-back');
      const own = receiveExitCode(received, false);
      const exitCode = mailExitCode(own !== EXIT.OK ? own : rolledBack ? EXIT.FAILED : EXIT.OK, mail);
      const lines = [
        ...(staged ? [`staged update ${staged.packageId}: ${staged.outcome}`] : []),
        ...received.processed.map((p) => `${p.type} ${p.id}: ${p.outcome}`),
        ...received.quarantined.map((q) => `quarantined ${q.code}: ${q.reason}`),
        ...received.failed.map((f) => `left in the inbox (a bug, see the log): ${f.error}`),
      ];
      const line = mailLine(mail);
      if (line) lines.push(line);
      return {
        exitCode,
        data: {
          processed: received.processed,
          quarantined: received.quarantined,
          mail,
          ...(staged ? { staged } : {}),
        },
        text: lines.length > 0 ? lines.join('\n') : 'no mail',
      };
    };
    return await runEvery(options.every, ctx.logger, pass);
  } finally {
    ctx.close();
  }
}
