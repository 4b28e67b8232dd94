import type { AuditEntry } from '../core/audit/entry.js';
import { parseDateArg } from './args.js';
import { openContext } from './context.js';
import type { auditExport, auditList } from './specs/audit.js';
import type { OptionsOf } from './specs/define.js';
import { formatTable, timeColumn } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

/** `rds audit list [--since T]`: entries are outside text in part (agent ids, versions from mail): shown neutralised. */
export async function runList(options: OptionsOf<typeof auditList>, globals: GlobalOptions): Promise<CommandResult> {
  const since = options.since === undefined ? undefined : parseDateArg(options.since, '--since', { endOfDay: false }).toISOString();
  const ctx = await openContext(globals, 'audit list');
  try {
    const { auditRows } = await import('../core/audit/store.js');
    const entries = [...auditRows(ctx.db, since)].map((r) => JSON.parse(r.entry) as AuditEntry);
    const table = formatTable(
      ['#', timeColumn('Time'), 'User', 'Action', 'Agents', 'Package', 'Exit', 'Detail'],
      entries.map((e) => [
        String(e.seq),
        e.at,
        e.by.user,
        e.action,
        e.agents.length > 3 ? `${e.agents.slice(0, 3).join(',')} +${e.agents.length - 3}` : e.agents.join(','),
        e.package ? e.package.slice(0, 12) : '',
        e.status === undefined ? '' : String(e.status),
        Object.entries(e.detail)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')
          .slice(0, 120),
      ]),
    );
    return { data: { entries }, text: entries.length === 0 ? 'no audit entries' : table };
  } finally {
    ctx.close();
  }
}

/** `rds audit export -o FILE`: header, checkpoints, entries (core/audit/export.ts), mode 0600. */
export async function runExport(options: OptionsOf<typeof auditExport>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'audit export');
  try {
    const { auditHead, auditRows, checkpointRows } = await import('../core/audit/store.js');
    const { exportLines, EXPORT_FORMAT } = await import('../core/audit/export.js');
    const { replaceFileSafely } = await import('../core/fs/trust.js');
    const checkpoints = checkpointRows(ctx.db);
    const { count } = auditHead(ctx.db);
    const header = {
      format: EXPORT_FORMAT,
      v: 1,
      node: ctx.config.id,
      exportedAt: ctx.clock.now().toISOString(),
      entries: count,
      checkpoints: checkpoints.length,
    } as const;
    const lines = [...exportLines(header, checkpoints, auditRows(ctx.db))];
    replaceFileSafely(options.output, `${lines.join('\n')}\n`, 0o600);
    return {
      data: { file: options.output, entries: count, checkpoints: checkpoints.length },
      text: `wrote ${count} entries and ${checkpoints.length} checkpoints to ${options.output}`,
    };
  } finally {
    ctx.close();
  }
}
