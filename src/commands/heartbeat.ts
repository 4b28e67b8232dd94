import { queueHeartbeat } from '../core/agent/heartbeat.js';
import { EXIT } from '../core/errors.js';
import { agentHandlerContext } from './agent-handler-context.js';
import { openContext } from './context.js';
import { flushAll } from './mail-context.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(_options: unknown, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'heartbeat', { role: 'agent' });
  try {
    const sent = await queueHeartbeat(await agentHandlerContext(ctx));
    const flushed = await flushAll(ctx);
    if (flushed.transient) {
      return {
        exitCode: EXIT.TRANSIENT,
        data: { ...sent, queued: true, transient: flushed.transient.message },
        text: `mail server unreachable; the heartbeat stays queued: ${flushed.transient.message}`,
      };
    }
    return { data: { ...sent, queued: false }, text: `heartbeat sent to the host (${sent.devices} device(s))` };
  } finally {
    ctx.close();
  }
}
