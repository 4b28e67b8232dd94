import { installStagedIfDue } from '../core/agent/deferred-update.js';
import { agentHandlers } from '../core/agent/handlers.js';
import { partsLimits } from '../core/agent/parts-limits.js';
import { partsPass, partsPassLines } from '../core/agent/parts-pass.js';
import { EXIT } from '../core/errors.js';
import { receiveExitCode, receiveMessages } from '../core/message/inbound.js';
import { UPDATE } from '../core/protocol/update.js';
import { UPDATE_PART } from '../core/protocol/update-part.js';
import { agentAcceptPolicy, agentHandlerContext } from './agent-handler-context.js';
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
    partsLimits(ctx.config, options.requestMissingAfter); // a bad duration: exit 2 before any mail is touched
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
          policy: agentAcceptPolicy(ctx, handlerCtx),
        });
      } finally {
        await inbox.close();
      }
      // update parts: drop expired packages, ask for what is missing (docs/install.md#update-parts)
      const parts = await partsPass(handlerCtx, options.requestMissingAfter);
      const after = before.stopped ? undefined : await flushAll(ctx);
      const mail = summariseMail(ctx, before, after);
      // README's table: an install that rolled back is 1 ("done, but something failed"),
      // below refused mail (4); the mail rule of mailExitCode comes first
      const rolledBack =
        staged?.outcome === 'rolled-back' ||
        received.processed.some((p) => (p.type === UPDATE || p.type === UPDATE_PART) && p.outcome === 'rolled-back');
      const own = receiveExitCode(received, false);
      const exitCode = mailExitCode(own !== EXIT.OK ? own : rolledBack ? EXIT.FAILED : EXIT.OK, mail);
      const lines = [
        ...(staged ? [`staged update ${staged.packageId}: ${staged.outcome}`] : []),
        ...received.processed.map((p) => `${p.type} ${p.id}: ${p.outcome}`),
        ...received.quarantined.map((q) => `quarantined ${q.code}: ${q.reason}`),
        ...received.failed.map((f) => `left in the inbox (a bug, see the log): ${f.error}`),
        ...partsPassLines(parts),
      ];
      const line = mailLine(mail);
      if (line) lines.push(line);
      return {
        exitCode,
        data: {
          processed: received.processed,
          quarantined: received.quarantined,
          mail,
          parts,
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
