import { queueFaultMail } from '../core/agent/fault-mail.js';
import { heartbeatDue, queueHeartbeat } from '../core/agent/heartbeat.js';
import { createDriverRegistry, listDevices, watchFaultsPass } from '../core/devices/index.js';
import { parseDuration } from '../core/duration.js';
import { EXIT } from '../core/errors.js';
import { agentHandlerContext } from './agent-handler-context.js';
import { openContext } from './context.js';
import { runEvery } from './every.js';
import { flushAll } from './mail-context.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: { every?: string }, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'watch-faults', { role: 'agent', lock: 'watch-faults' });
  try {
    const handlerCtx = await agentHandlerContext(ctx);
    const drivers = createDriverRegistry();
    const ackWindowMs = parseDuration(ctx.config.ackWindow ?? '30m', 'ackWindow');
    return await runEvery(options.every, ctx.logger, async () => {
      const pass = await watchFaultsPass(ctx.db, listDevices(ctx.db), { drivers, clock: ctx.clock, logger: ctx.logger });
      const mail = await queueFaultMail(handlerCtx, ackWindowMs);
      // silence at the host means something only if the agent speaks when all is well
      const heartbeat = heartbeatDue(handlerCtx) ? await queueHeartbeat(handlerCtx) : undefined;
      const flushed = await flushAll(ctx);
      const lines = pass.reports.map(
        (r) => `${r.kind} ${r.event.code}${r.event.subunit ? ` (${r.event.subunit})` : ''} on ${r.event.deviceId}`,
      );
      if (mail.resent) lines.push(`resent ${mail.resent} unacknowledged report(s)`);
      if (mail.unacknowledged) lines.push(`${mail.unacknowledged} report(s) stayed unacknowledged after the resend`);
      for (const d of pass.devices.filter((x) => !x.ok)) lines.push(`${d.deviceId}: ${d.error?.message ?? 'unreachable'}`);
      if (flushed.transient) lines.push(`mail server unreachable; reports stay queued: ${flushed.transient.message}`);
      const exitCode = flushed.transient || (pass.failed > 0 && pass.failed === pass.devices.length) ? EXIT.TRANSIENT : EXIT.OK;
      return {
        exitCode,
        data: {
          devices: pass.devices.map(({ snapshot: _s, ...d }) => d),
          reports: pass.reports,
          mail,
          heartbeat: heartbeat ?? null,
          transient: flushed.transient?.message,
        },
        text:
          (lines.length > 0 ? lines.join('\n') : `${pass.devices.length} device(s) polled, nothing new`) +
          (heartbeat ? `${lines.length > 0 ? '\n' : '; '}heartbeat sent` : ''),
      };
    });
  } finally {
    ctx.close();
  }
}
