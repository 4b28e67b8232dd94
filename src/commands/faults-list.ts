import { openContext } from './context.js';
import { formatTable, formatTime } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

interface Row {
  agent_id: string;
  device_id: string;
  code: string;
  subunit: string;
  severity: string;
  raised_at: string;
  cleared_at: string | null;
  acked_at: string | null;
  reports: number;
}

export async function run(options: { open?: boolean; agent?: string }, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'faults list', { role: 'host' });
  try {
    const rows = ctx.db
      .prepare(
        `SELECT agent_id, device_id, code, subunit, severity, raised_at, cleared_at, acked_at, reports FROM host_faults
         WHERE (? = 0 OR cleared_at IS NULL) AND (? IS NULL OR agent_id = ?) ORDER BY raised_at, agent_id`,
      )
      .all(options.open ? 1 : 0, options.agent ?? null, options.agent ?? null) as Row[];
    const faults = rows.map((r) => ({
      agentId: r.agent_id,
      deviceId: r.device_id,
      code: r.code,
      subunit: r.subunit,
      severity: r.severity,
      raisedAt: r.raised_at,
      clearedAt: r.cleared_at,
      acked: r.acked_at !== null,
      reports: r.reports,
    }));
    const text =
      faults.length === 0
        ? 'no faults'
        : formatTable(
            ['Agent', 'Device', 'Code', 'Subunit', 'Severity', 'Raised', 'Cleared', 'Acked'],
            faults.map((f) => [
              f.agentId,
              f.deviceId,
              f.code,
              f.subunit,
              f.severity,
              formatTime(f.raisedAt),
              formatTime(f.clearedAt),
              f.acked ? 'yes' : 'no',
            ]),
          );
    return { data: { faults }, text };
  } finally {
    ctx.close();
  }
}
