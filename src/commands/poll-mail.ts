import type { AgentHandlerContext } from '../core/agent/handlers.js';
import { partsLimits } from '../core/agent/parts-limits.js';
import { stagedUpdateDue } from '../core/agent/staged-due.js';
import type { AgentConfig } from '../core/config/schema.js';
import { EXIT } from '../core/errors.js';
import { peekInbox } from '../core/mail/peek.js';
import type { MailInbox } from '../core/mail/types.js';
import type { ReceiveResult } from '../core/message/inbound.js';
import { checkAgentKeys, lazyHandlerContext } from './agent-pass.js';
import type { Context } from './context.js';
import { openContext } from './context.js';
import { runEvery } from './every.js';
import { flushAll, mailExitCode, mailLine, openMailInbox, summariseMail } from './mail-context.js';
import type { pollMail } from './specs/agent.js';
import type { OptionsOf } from './specs/define.js';
import type { CommandResult, GlobalOptions } from './types.js';

type Lazy = () => Promise<AgentHandlerContext>;

export async function run(options: OptionsOf<typeof pollMail>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'poll-mail', {
    role: 'agent',
    lock: options.every ? { perPass: ['mailbox', 'outbox'] } : ['mailbox'],
  });
  try {
    // keys are checked as before, but openpgp, handlers and the install path are loaded
    // only when there is something to act on: an empty pass (cron's common case) loads none
    partsLimits(ctx.config, options.requestMissingAfter); // a bad duration: exit 2 before any mail is touched
    await checkAgentKeys(ctx);
    const handlerCtx = lazyHandlerContext(ctx);
    const pass = async (): Promise<CommandResult> => {
      const before = await flushAll(ctx); // replies of earlier runs
      // an update staged outside the install window installs once it is open, mail or not
      const staged = stagedUpdateDue(ctx)
        ? await import('../core/agent/deferred-update.js').then(async (m) => m.installStagedIfDue(await handlerCtx()))
        : undefined;
      const inbox = await openMailInbox(ctx);
      let taken: { received: ReceiveResult; exitCode: number; rolledBack: boolean };
      try {
        taken = await takeIn(ctx, inbox, options.max ? Number(options.max) : 1000, handlerCtx);
      } finally {
        await inbox.close();
      }
      const { received } = taken;
      // update parts: drop expired packages, ask for what is missing (docs/install.md#update-parts)
      const parts = await partsPass(ctx, handlerCtx, options.requestMissingAfter);
      const after = before.stopped ? undefined : await flushAll(ctx);
      const mail = summariseMail(ctx, before, after);
      // README's table: an install that rolled back is 1 ("done, but something failed"),
      // below refused mail (4); the mail rule of mailExitCode comes first
      const rolledBack = staged?.outcome === 'rolled-back' || taken.rolledBack;
      const exitCode = mailExitCode(taken.exitCode !== EXIT.OK ? taken.exitCode : rolledBack ? EXIT.FAILED : EXIT.OK, mail);
      const lines = [
        ...(staged ? [`staged update ${staged.packageId}: ${staged.outcome}`] : []),
        ...received.processed.map((p) => `${p.type} ${p.id}: ${p.outcome}`),
        ...received.quarantined.map((q) => `quarantined ${q.code}: ${q.reason}`),
        ...received.failed.map((f) => `left in the inbox (a bug, see the log): ${f.error}`),
        ...(parts ? parts.lines : []),
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
          parts: parts?.result ?? { expired: [], requested: [] },
        },
        text: lines.length > 0 ? lines.join('\n') : 'no mail',
      };
    };
    return await runEvery(options.every, ctx.logger, pass);
  } finally {
    ctx.close();
  }
}

/** Take in what waits (nothing loaded when nothing does): what was received, its exit code, whether an install rolled back. */
async function takeIn(ctx: Context<AgentConfig>, inbox: MailInbox, max: number, handlerCtx: Lazy) {
  const waiting = await peekInbox(inbox, { max, maxSize: ctx.config.maxMessageSize });
  if (!waiting)
    return {
      received: { processed: [], quarantined: [], failed: [], alreadyDone: [], takenByOther: [] },
      exitCode: EXIT.OK,
      rolledBack: false,
    };
  const [{ agentHandlers }, { deviceHandlers }, { receiveExitCode, receiveMessages }, { UPDATE }, { UPDATE_PART }, { agentAcceptPolicy }] =
    await Promise.all([
      import('../core/agent/handlers.js'),
      import('../core/agent/device-handlers.js'),
      import('../core/message/inbound.js'),
      import('../core/protocol/update.js'),
      import('../core/protocol/update-part.js'),
      import('./agent-handler-context.js'),
    ]);
  const hc = await handlerCtx();
  const received = await receiveMessages({
    db: ctx.db,
    inbox: waiting,
    handlers: agentHandlers(hc, deviceHandlers(hc)),
    maxMessageSize: ctx.config.maxMessageSize,
    maxMessages: max,
    clock: ctx.clock,
    logger: ctx.logger,
    policy: agentAcceptPolicy(ctx, hc),
  });
  const rolledBack = received.processed.some((p) => (p.type === UPDATE || p.type === UPDATE_PART) && p.outcome === 'rolled-back');
  return { received, exitCode: receiveExitCode(received, false), rolledBack };
}

/**
 * The parts pass (core/agent/parts-pass.ts) when packages are in reassembly; nothing is
 * loaded when none is (an empty cron pass stays light).
 */
async function partsPass(ctx: Context<AgentConfig>, handlerCtx: Lazy, requestMissingAfter?: string) {
  const held = ctx.db.prepare('SELECT 1 FROM part_packages LIMIT 1').get();
  if (!held) return undefined;
  const m = await import('../core/agent/parts-pass.js');
  const result = await m.partsPass(await handlerCtx(), requestMissingAfter);
  return { result, lines: m.partsPassLines(result) };
}
