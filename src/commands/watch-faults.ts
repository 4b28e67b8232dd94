import { queueFaultMail } from '../core/agent/fault-mail.js';
import { heartbeatDue, queueHeartbeat } from '../core/agent/heartbeat.js';
import { createLazyDriverRegistry, listDevices, watchFaultsPass } from '../core/devices/watch.js';
import { parseDuration } from '../core/duration.js';
import { EXIT } from '../core/errors.js';
import { checkAgentKeys, lazyHandlerContext } from './agent-pass.js';
import { openContext } from './context.js';
import { runEvery } from './every.js';
import { flushAll, mailExitCode, mailLine, summariseMail } from './mail-context.js';
import type { watchFaults } from './specs/agent.js';
import type { OptionsOf } from './specs/define.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: OptionsOf<typeof watchFaults>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'watch-faults', { role: 'agent', lock: ['faults'] });
  try {
    // keys are checked as before; openpgp is loaded only when a report or heartbeat is signed
    await checkAgentKeys(ctx);
    const handlerCtx = lazyHandlerContext(ctx);
    const drivers = createLazyDriverRegistry();
    const ackWindowMs = parseDuration(ctx.config.ackWindow ?? '30m', 'ackWindow');
    return await runEvery(options.every, ctx.logger, async () => {
      const pass = await watchFaultsPass(ctx.db, listDevices(ctx.db), { drivers, clock: ctx.clock, logger: ctx.logger });
      const reports = await queueFaultMail(ctx, handlerCtx, ackWindowMs);
      // silence at the host means something only if the agent speaks when all is well
      const heartbeat = heartbeatDue(ctx) ? await queueHeartbeat(await handlerCtx()) : undefined;
      const mail = summariseMail(ctx, await flushAll(ctx));
      const lines = pass.reports.map(
        (r) => `${r.kind} ${r.event.code}${r.event.subunit ? ` (${r.event.subunit})` : ''} on ${r.event.deviceId}`,
      );
      if (reports.resent) lines.push(`resent ${reports.resent} unacknowledged report(s)`);
      if (reports.unacknowledged) lines.push(`${reports.unacknowledged} report(s) stayed unacknowledged after the resend`);
      for (const d of pass.devices.filter((x) => !x.ok)) lines.push(`${d.deviceId}: ${d.error?.message ?? 'unreachable'}`);
      // what the pass found first (or that it found nothing), then the heartbeat, then the mail line
      if (lines.length === 0) lines.push(`${pass.devices.length} device(s) polled, nothing new`);
      if (heartbeat) lines.push('heartbeat queued for the host');
      const line = mailLine(mail);
      if (line) lines.push(line);
      // README's table: a device that could not be reached is 3 (the others were polled)
      const exitCode = mailExitCode(pass.failed > 0 ? EXIT.TRANSIENT : EXIT.OK, mail);
      return {
        exitCode,
        data: {
          devices: pass.devices.map(({ snapshot: _s, ...d }) => d),
          reports: pass.reports,
          faultMail: reports,
          mail,
          heartbeat: heartbeat ?? null,
        },
        text: lines.join('\n'),
      };
    });
  } finally {
    ctx.close();
  }
}
