import path from 'node:path';
import { gatherReport } from '../core/report/data.js';
import { checkReportFile, defaultReportFile, REPORT_MODE, writeReport } from '../core/report/write.js';
import { serviceSettings } from '../core/service/settings.js';
import { parseDateArg, parseDurationArg } from './args.js';
import { openContext } from './context.js';
import { runServicePass } from './service-pass.js';
import type { OptionsOf } from './specs/define.js';
import type { report } from './specs/report.js';
import type { CommandResult, GlobalOptions } from './types.js';

/** `rds report [--html FILE] [--rollout ID] [--since T] [--silent-after D]` (docs/report.md). */
export async function run(options: OptionsOf<typeof report>, globals: GlobalOptions): Promise<CommandResult> {
  const silentAfterMs = parseDurationArg(options.silentAfter, '--silent-after');
  const since = options.since === undefined ? undefined : parseDateArg(options.since, '--since', { endOfDay: false }).toISOString();
  const ctx = await openContext(globals, 'report', { role: 'host' });
  try {
    const now = ctx.clock.now();
    const file = path.resolve(options.html ?? defaultReportFile(now));
    checkReportFile(file);
    // the supply and silence events as of now, as `faults list` shows them
    await runServicePass(ctx, { alerts: false });
    const data = gatherReport(ctx.db, ctx.config.id, serviceSettings(ctx.config), {
      ...(options.rollout ? { rolloutId: options.rollout } : {}),
      ...(since ? { since } : {}),
      silentAfterMs,
      now,
    });
    const { buildReport } = await import('../core/report/build.js');
    writeReport(file, await buildReport(data));
    const summary = {
      agents: data.fleet.rows.length,
      failed: data.fleet.failed,
      target: data.fleet.target,
      rolloutId: data.fleet.rolloutId,
      silent: data.silent.length,
      openFaults: data.faults.length,
      lowSupplies: data.supplies.length,
      devices: data.devices.length,
    };
    const text = [
      `wrote ${file} (mode ${REPORT_MODE.toString(8).padStart(4, '0')})`,
      `  ${summary.agents} agents${summary.target ? `, update to ${summary.target}: ${summary.failed} failed` : ''}; silent: ${summary.silent}; open faults: ${summary.openFaults}; supplies low: ${summary.lowSupplies}; devices charted: ${summary.devices}`,
    ].join('\n');
    return { data: { file, ...summary }, text };
  } finally {
    ctx.close();
  }
}
