import { collectCountersPass, createDriverRegistry, listDevices } from '../core/devices/index.js';
import { EXIT } from '../core/errors.js';
import { openContext } from './context.js';
import { runEvery } from './every.js';
import type { collectCounters } from './specs/agent.js';
import type { OptionsOf } from './specs/define.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: OptionsOf<typeof collectCounters>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'collect-counters', { role: 'agent', lock: ['counters'] });
  try {
    const drivers = createDriverRegistry();
    return await runEvery(options.every, ctx.logger, async () => {
      const devices = listDevices(ctx.db);
      const pass = await collectCountersPass(ctx.db, devices, { drivers, clock: ctx.clock, logger: ctx.logger });
      const lines = pass.readings.map(
        (r) =>
          `${r.deviceId}: ${r.host ? `cpu ${r.host.cpuLoadPercent ?? '-'}%, memory ${r.host.memoryUsedPercent ?? '-'}%, restarts ${r.host.restarts}` : `total ${r.total ?? '-'}`}${r.flags.length > 0 ? ` [${r.flags.join(', ')}]` : ''}`,
      );
      for (const f of pass.failures) lines.push(`${f.deviceId}: ${f.message}`);
      const exitCode = devices.length > 0 && pass.failures.length === devices.length ? EXIT.TRANSIENT : EXIT.OK;
      return { exitCode, data: pass, text: lines.length > 0 ? lines.join('\n') : 'no devices' };
    });
  } finally {
    ctx.close();
  }
}
