import { queueHeartbeat } from '../core/agent/heartbeat.js';
import { EXIT } from '../core/errors.js';
import { agentHandlerContext } from './agent-handler-context.js';
import { openContext } from './context.js';
import { flushAll, mailExitCode, mailLine, summariseMail } from './mail-context.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(_options: unknown, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'heartbeat', { role: 'agent' });
  try {
    const sent = await queueHeartbeat(await agentHandlerContext(ctx));
    const mail = summariseMail(ctx, await flushAll(ctx));
    const line = mailLine(mail);
    return {
      exitCode: mailExitCode(EXIT.OK, mail),
      data: { ...sent, mail },
      text: [`heartbeat ${mail.stopped || mail.failed.length > 0 ? 'queued' : 'sent'} to the host (${sent.devices} device(s))`, line]
        .filter(Boolean)
        .join('\n'),
    };
  } finally {
    ctx.close();
  }
}
