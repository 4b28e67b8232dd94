import { latestSupplies, supplyHistory } from '../core/service/host-events.js';
import { serviceSettings, thresholdsFor } from '../core/service/settings.js';
import { type Forecast, forecastEmpty, supplyState } from '../core/service/supplies.js';
import { parseDurationArg } from './args.js';
import { openContext } from './context.js';
import { runServicePass } from './service-pass.js';
import type { OptionsOf } from './specs/define.js';
import type { suppliesList } from './specs/fleet.js';
import { formatDay, formatTable, timeColumn } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

export function forecastCell(f: Forecast): string {
  switch (f.status) {
    case 'forecast':
      return `${formatDay(f.emptyAt)} (${f.days} d)`;
    case 'empty':
      return 'empty now';
    case 'not-declining':
      return 'not declining';
    default:
      return 'not enough history';
  }
}

/** `rds supplies list [--due 14d] [--agent ID]`: every supply's latest level and when it runs out. */
export async function run(options: OptionsOf<typeof suppliesList>, globals: GlobalOptions): Promise<CommandResult> {
  const dueMs = options.due === undefined ? undefined : parseDurationArg(options.due, '--due');
  const ctx = await openContext(globals, 'supplies list', { role: 'host' });
  try {
    const settings = serviceSettings(ctx.config);
    await runServicePass(ctx, { alerts: false });
    const now = ctx.clock.now().getTime();
    let supplies = latestSupplies(ctx.db, options.agent).map((s) => {
      const forecast = forecastEmpty(supplyHistory(ctx.db, s), {
        jump: settings.replacementJump,
        minSpanMs: settings.minForecastSpanMs,
        now,
      });
      return { ...s, level: Math.round(s.level * 10) / 10, state: supplyState(s.level, thresholdsFor(settings, s.kind)), forecast };
    });
    if (dueMs !== undefined) {
      // what to ship: empty now, or forecast to run out within the window
      supplies = supplies.filter(
        (s) =>
          s.state === 'empty' ||
          s.forecast.status === 'empty' ||
          (s.forecast.status === 'forecast' && Date.parse(s.forecast.emptyAt) - now <= dueMs),
      );
    }
    const text =
      supplies.length === 0
        ? dueMs === undefined
          ? 'no supply levels (they come with counter readings: rds request-counters)'
          : `no supply runs out within ${options.due}`
        : formatTable(
            ['Agent', 'Device', 'Supply', 'Kind', 'Level %', 'State', timeColumn('Read at'), 'Forecast empty'],
            supplies.map((s) => [s.agentId, s.deviceId, s.name, s.kind, String(s.level), s.state, s.readAt, forecastCell(s.forecast)]),
          );
    return { data: { supplies }, text };
  } finally {
    ctx.close();
  }
}
