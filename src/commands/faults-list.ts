import { listHostEvents } from '../core/service/host-events.js';
import { openContext } from './context.js';
import { runServicePass } from './service-pass.js';
import type { OptionsOf } from './specs/define.js';
import type { faultsList } from './specs/fleet.js';
import { formatTable, timeColumn } from './table.js';
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

/**
 * Faults the agents reported (source agent, acked by the host) and the events the host
 * raises itself (source host: supply-low, supply-empty, agent-silent, device-silent; no ack).
 */
export async function run(options: OptionsOf<typeof faultsList>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'faults list', { role: 'host' });
  try {
    await runServicePass(ctx, { alerts: false });
    const rows = ctx.db
      .prepare(
        `SELECT agent_id, device_id, code, subunit, severity, raised_at, cleared_at, acked_at, reports FROM host_faults
         WHERE (? = 0 OR cleared_at IS NULL) AND (? IS NULL OR agent_id = ?) ORDER BY raised_at, agent_id`,
      )
      .all(options.open ? 1 : 0, options.agent ?? null, options.agent ?? null) as Row[];
    const fromAgents = rows.map((r) => ({
      source: 'agent' as const,
      agentId: r.agent_id,
      deviceId: r.device_id,
      code: r.code,
      subunit: r.subunit,
      severity: r.severity,
      raisedAt: r.raised_at,
      clearedAt: r.cleared_at,
      acked: r.acked_at !== (null as boolean | null),
      reports: r.reports,
    }));
    const fromHost = listHostEvents(ctx.db, { open: Boolean(options.open), ...(options.agent ? { agentId: options.agent } : {}) }).map(
      (e) => ({
        source: 'host' as const,
        agentId: e.agentId,
        deviceId: e.deviceId,
        code: e.kind,
        subunit: e.subject,
        severity: e.severity,
        raisedAt: e.raisedAt,
        clearedAt: e.clearedAt,
        acked: null,
        reports: 1,
        detail: e.detail,
        clearReason: e.clearReason,
      }),
    );
    const faults = [...fromAgents, ...fromHost].sort((a, b) => (a.raisedAt < b.raisedAt ? -1 : a.raisedAt > b.raisedAt ? 1 : 0));
    const text =
      faults.length === 0
        ? 'no faults'
        : formatTable(
            ['Agent', 'Device', 'Code', 'Subunit', 'Severity', 'Source', timeColumn('Raised'), timeColumn('Cleared'), 'Acked'],
            faults.map((f) => [
              f.agentId,
              f.deviceId || '-',
              f.code,
              f.subunit,
              f.severity,
              f.source,
              f.raisedAt,
              f.clearedAt,
              f.acked === null ? '-' : f.acked ? 'yes' : 'no',
            ]),
          );
    return { data: { faults }, text };
  } finally {
    ctx.close();
  }
}
