import { UsageError } from '../core/errors.js';
import { type AgentView, agentView } from '../core/host/agent-view.js';
import { showText } from '../core/text/show.js';
import { openContext } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { agentsShow } from './specs/fleet.js';
import { formatTable, formatTime, formatTimeZoned, timeColumn } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

/** A log tail as indented lines, each control escaped: a forged line can never pass for rds output. */
function logLines(tail: string): string[] {
  return tail.split('\n').map((line) => `    | ${showText(line)}`);
}

export function formatAgentView(v: AgentView): string {
  const lines = [
    `agent:            ${showText(v.id)}`,
    `mail address:     ${showText(v.address)}`,
    `key fingerprint:  ${showText(v.fingerprint)}`,
    `note:             ${showText(v.note)}`,
    `registered:       ${formatTimeZoned(v.addedAt)}`,
    `version:          ${v.version ? showText(v.version) : '-'} (checked ${formatTime(v.checkedAt)})`,
    `last seen:        ${formatTime(v.lastSeen)}`,
    '',
    'Versions reported (newest first):',
    v.versions.length === 0
      ? '  none yet'
      : formatTable(
          ['Version', timeColumn('Issued'), timeColumn('Received'), 'Kind'],
          v.versions.map((r) => [r.softwareVersion, r.issuedAt, r.receivedAt, r.kind]),
        ),
    '',
    'Rollouts (newest first):',
  ];
  if (v.rollouts.length === 0) lines.push('  none yet');
  for (const r of v.rollouts) {
    const result = r.result ? `${showText(r.result)} ${r.resultVersion ? showText(r.resultVersion) : ''}`.trimEnd() : 'no result yet';
    lines.push(
      `  ${showText(r.rolloutId)}   target ${showText(r.targetVersion)}   ${formatTime(r.createdAt)}   ${showText(r.status)}   ${result}`,
    );
    if (r.error) lines.push(`    send error: ${showText(r.error)}`);
    const asked = v.partsRequests.find((q) => q.rolloutId === r.rolloutId);
    if (asked) {
      lines.push(
        `    parts-requests: ${asked.requests} (${asked.answered} answered, ${asked.refused} not: parts.maxResends), ${asked.partsSent} parts re-sent`,
      );
    }
    if (r.detail) lines.push(`    reason: ${showText(r.detail)}`);
    if (r.logTail) {
      lines.push(`    install log (last lines${r.logTailNote ? `, ${showText(r.logTailNote)}` : ''}):`, ...logLines(r.logTail));
    }
  }
  lines.push('', 'Open faults:');
  lines.push(
    v.openFaults.length === 0
      ? '  none'
      : formatTable(
          ['Device', 'Code', 'Subunit', 'Severity', timeColumn('Raised'), 'Acked'],
          v.openFaults.map((f) => [f.deviceId, f.code, f.subunit, f.severity, f.raisedAt, f.acked ? 'yes' : 'no']),
        ),
  );
  return lines.join('\n');
}

export async function run(options: OptionsOf<typeof agentsShow>, globals: GlobalOptions): Promise<CommandResult> {
  const id = options.args?.[0];
  if (!id) throw new UsageError('MISSING_ARGUMENT', 'rds agents show needs an agent id, e.g. rds agents show AGENT0000001');
  const ctx = await openContext(globals, 'agents show', { role: 'host' });
  try {
    const view = agentView(ctx.db, id);
    return { data: view, text: formatAgentView(view) };
  } finally {
    ctx.close();
  }
}
