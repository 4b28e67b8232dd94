import { writeCsv } from '../core/csv/csv.js';
import { UsageError } from '../core/errors.js';
import { openContext } from './context.js';
import { runMeterExport } from './meter-export.js';
import type { OptionsOf } from './specs/define.js';
import type { countersExport } from './specs/fleet.js';
import { formatTable, formatTime } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

interface Row {
  agent_id: string;
  device_id: string;
  serial: string | null;
  read_at: string;
  total: number | null;
  mono: number | null;
  colour: number | null;
  reading: string;
}

interface StoredReading {
  byService?: Record<string, { total?: number }>;
  byPaperSize?: Record<string, { total?: number }>;
  flags?: string[];
}

/** A row stored by an older rds or damaged in the file must not stop the export: it is flagged. */
function readStored(json: string): StoredReading {
  try {
    const full = JSON.parse(json) as StoredReading;
    const sets = (m: unknown) => typeof m === 'object' && m !== null && Object.values(m).every((v) => typeof v === 'object' && v !== null);
    if (typeof full !== 'object' || full === null || !sets(full.byService ?? {}) || !sets(full.byPaperSize ?? {})) {
      return { flags: ['unreadable'] };
    }
    return { ...full, flags: Array.isArray(full.flags) ? full.flags.map(String) : [] };
  } catch {
    return { flags: ['unreadable'] };
  }
}

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
    const rows = ctx.db
      .prepare('SELECT * FROM host_counters WHERE (? IS NULL OR read_at >= ?) ORDER BY read_at, agent_id, device_id')
      .all(since, since) as Row[];
    const readings = rows.map((r) => {
      const full = readStored(r.reading);
      return {
        agentId: r.agent_id,
        deviceId: r.device_id,
        serial: r.serial,
        readAt: r.read_at,
        total: r.total,
        mono: r.mono,
        colour: r.colour,
        byService: Object.fromEntries(Object.entries(full.byService ?? {}).map(([k, v]) => [k, v.total ?? null])),
        byPaperSize: Object.fromEntries(Object.entries(full.byPaperSize ?? {}).map(([k, v]) => [k, v.total ?? null])),
        flags: full.flags ?? [],
      };
    });
    const services = [...new Set(readings.flatMap((r) => Object.keys(r.byService)))].sort();
    const sizes = [...new Set(readings.flatMap((r) => Object.keys(r.byPaperSize)))].sort();
    if (options.csv) {
      const header = [
        'agent',
        'device',
        'serial',
        'time',
        'total',
        'mono',
        'colour',
        ...services.map((s) => `service:${s}`),
        ...sizes.map((s) => `paper:${s}`),
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
        r.flags.join(' '),
      ]);
      return { data: { readings }, text: writeCsv(header, lines) };
    }
    const text =
      readings.length === 0
        ? 'no counter readings'
        : formatTable(
            ['Agent', 'Device', 'Serial', 'Read at', 'Total', 'Mono', 'Colour'],
            readings.map((r) => [
              r.agentId,
              r.deviceId,
              r.serial ?? '-',
              formatTime(r.readAt),
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
