import { writeCsv } from '../core/csv/csv.js';
import { UsageError } from '../core/errors.js';
import { counterReadings, HOST_COLUMNS } from '../core/service/counter-readings.js';
import { openContext } from './context.js';
import { runMeterExport } from './meter-export.js';
import type { OptionsOf } from './specs/define.js';
import type { countersExport } from './specs/fleet.js';
import { formatTable, timeColumn } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

function parseSince(text: string): string {
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(t)) {
    throw new UsageError('BAD_DATE', `--since '${text}' is not a date or time (e.g. 2026-12-01 or 2026-12-01T08:00:00Z)`);
  }
  return new Date(t).toISOString();
}

export async function run(options: OptionsOf<typeof countersExport>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'counters export', { role: 'host' });
  try {
    if (options.on !== undefined || options.cycle !== undefined || options.day !== undefined) {
      if (options.since !== undefined) throw new UsageError('BAD_OPTION', '--since lists readings; it does not go with --on or --cycle');
      return runMeterExport(ctx.db, options, ctx.clock.now());
    }
    const since = options.since === undefined ? null : parseSince(options.since);
    const readings = counterReadings(ctx.db, since);
    const services = [...new Set(readings.flatMap((r) => Object.keys(r.byService)))].sort();
    const sizes = [...new Set(readings.flatMap((r) => Object.keys(r.byPaperSize)))].sort();
    if (options.csv) {
      const hosts = readings.some((r) => r.host !== null) ? HOST_COLUMNS : [];
      const header = [
        ...'agent device serial time total mono colour'.split(' '),
        ...services.map((s) => `service:${s}`),
        ...sizes.map((s) => `paper:${s}`),
        ...hosts.map((h) => `host:${h}`),
        'flags',
      ];
      const lines = readings.map((r) => [
        r.agentId,
        r.deviceId,
        r.serial,
        r.readAt,
        r.total,
        r.mono,
        r.colour,
        ...services.map((s) => r.byService[s]),
        ...sizes.map((s) => r.byPaperSize[s]),
        ...hosts.map((h) => r.host?.[h] ?? null),
        r.flags.join(' '),
      ]);
      return { data: { readings }, text: writeCsv(header, lines) };
    }
    const text =
      readings.length === 0
        ? 'no counter readings'
        : formatTable(
            ['Agent', 'Device', 'Serial', timeColumn('Read at'), 'Total', 'Mono', 'Colour'],
            readings.map((r) => [
              r.agentId,
              r.deviceId,
              r.serial ?? '-',
              r.readAt,
              String(r.total ?? '-'),
              String(r.mono ?? '-'),
              String(r.colour ?? '-'),
            ]),
          );
    return { data: { readings }, text };
  } finally {
    ctx.close();
  }
}
