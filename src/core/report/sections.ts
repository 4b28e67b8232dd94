/**
 * The report's sections, one small function each, from ReportData to HTML. Every outside
 * string goes through `table`/`c` or escapeHtml; the charts' SVG is ECharts' own output.
 */

import { formatDuration } from '../duration.js';
import { lastLogLine } from '../install/log-tail.js';
import { escapeHtml } from '../text/html.js';
import type { FleetSection, LowSupply, OpenFault, ReportData, SilentAgent } from './data.js';
import { c, fmtAge, fmtTime, section, table } from './html.js';
import type { RolloutSection } from './rollout.js';
import type { DeviceUsage } from './usage.js';

const p = (text: string, cls = '') => `<p${cls ? ` class="${cls}"` : ''}>${escapeHtml(text)}</p>`;

export function header(d: ReportData): string {
  const since = d.since ? `; history since ${fmtTime(d.since)}` : '';
  return `<header>\n<h1>rds fleet report: host ${escapeHtml(d.hostId)}</h1>\n${p(`generated ${fmtTime(d.generatedAt)}${since}`, 'meta')}\n</header>`;
}

/** The original screen: Agent ID, Mail address, Version, Last version check, Note, Failed ✗ with reason. */
export function fleetHtml(f: FleetSection): string {
  const rows = f.rows.map((a) => {
    const why = a.failed ? [a.detail, lastLogLine(a.logTail)].filter(Boolean).join(' / log: ') : '';
    return [
      c(a.agentId),
      c(a.address),
      c(a.version),
      c(fmtTime(a.checkedAt), undefined, a.checkedAt ?? ''),
      c(a.note),
      a.failed ? c(`✗ ${a.reason}${why ? `: ${why}` : ''}`, 'fail') : c(''),
    ];
  });
  const target = f.target
    ? p(`update to: ${f.target}${f.rolloutId ? ` (rollout ${f.rolloutId})` : ''}`)
    : p('no rollout yet: nothing to verify against', 'muted');
  const summary = f.target ? p(`${f.failed} of ${f.rows.length} agents failed`, 'summary') : p(`${f.rows.length} agents`, 'summary');
  const filter =
    '<p class="controls" hidden><label>Filter: <input id="fleet-filter" type="search" placeholder="agent, address, note, reason"></label></p>';
  const t = table('fleet', ['Agent ID', 'Mail address', 'Version', 'Last version check', 'Note', 'Failed'], rows, 'no agents registered');
  return section('fleet-section', 'Fleet', `${target}\n${summary}\n${filter}\n${t}`);
}

export function rolloutHtml(r: RolloutSection): string {
  const parts: string[] = [];
  if (!r.current) parts.push(p('no rollouts yet (rds push-all records one)', 'muted'));
  else {
    const cur = r.current;
    parts.push(
      p(
        `rollout ${cur.id}: package ${cur.packageId}, update to ${cur.targetVersion}, created ${fmtTime(cur.createdAt)}, ${cur.agents} agents, ${cur.state}`,
      ),
    );
    if (cur.haltReason !== null) parts.push(p(`halted: ${cur.haltReason}`, 'fail'));
    parts.push(
      table(
        'rollout-states',
        ['State', 'Agents'],
        cur.counts.map((s) => [c(s.state), c(s.count, 'num')]),
        'no agents in this rollout',
      ),
    );
    for (const w of cur.waves) {
      parts.push(`<h3>${escapeHtml(`wave ${w.name}`)}</h3>`);
      parts.push(
        table(
          `wave-${parts.length}`,
          ['State', 'Agents'],
          w.counts.map((s) => [c(s.state), c(s.count, 'num')]),
          'no agents',
        ),
      );
    }
  }
  parts.push('<h3>History</h3>');
  const history = r.history.map((h) => [
    c(h.id),
    c(h.packageId),
    c(h.targetVersion),
    c(fmtTime(h.createdAt), undefined, h.createdAt),
    c(h.state),
    c(h.agents, 'num'),
    c(h.sent, 'num'),
    c(h.installed, 'num'),
    c(h.failed, h.failed > 0 ? 'fail' : 'num'),
    c(h.pending, 'num'),
  ]);
  parts.push(
    table(
      'rollouts',
      ['Rollout', 'Package', 'Target', 'Created', 'State', 'Agents', 'Sent', 'Installed', 'Failed', 'Pending'],
      history,
      'no rollouts',
    ),
  );
  return section('rollout-section', 'Rollout', parts.join('\n'));
}

export function silentHtml(silent: readonly SilentAgent[], afterMs: number): string {
  const rows = silent.map((a) => [
    c(a.agentId),
    c(a.address),
    c(a.note),
    c(a.lastHeardAt ? fmtTime(a.lastHeardAt) : `never (registered ${fmtTime(a.addedAt)})`, undefined, a.lastHeardAt ?? ''),
    c(fmtAge(a.silentMs), 'num', a.silentMs),
  ]);
  const t = table('silent', ['Agent ID', 'Mail address', 'Note', 'Last heard', 'Silent for'], rows, 'no agent is silent');
  return section('silent-section', `Agents silent for more than ${formatDuration(afterMs)}`, t);
}

export function faultsHtml(faults: readonly OpenFault[]): string {
  const bySeverity = new Map<string, number>();
  for (const f of faults) bySeverity.set(f.severity, (bySeverity.get(f.severity) ?? 0) + 1);
  const summary = faults.length === 0 ? '' : p([...bySeverity].map(([s, n]) => `${s}: ${n}`).join(', '), 'summary');
  const rows = faults.map((f) => [
    c(f.severity, f.severity === 'critical' ? 'sev-critical' : f.severity === 'warning' ? 'sev-warning' : 'sev-info'),
    c(f.kind),
    c(f.agentId),
    c(f.deviceId || '-'),
    c(f.subject || '-'),
    c(f.detail),
    c(f.source),
    c(fmtTime(f.at), undefined, f.at),
    c(fmtAge(f.ageMs), 'num', f.ageMs),
  ]);
  const t = table(
    'faults',
    ['Severity', 'Fault', 'Agent', 'Device', 'Subunit / supply', 'Detail', 'Source', 'Raised', 'Age'],
    rows,
    'no open faults',
  );
  return section('faults-section', 'Open faults', `${summary}\n${t}`);
}

const forecastText = (s: LowSupply): string =>
  s.forecast.status === 'forecast'
    ? `${s.forecast.emptyAt.slice(0, 10)} (${s.forecast.days} d)`
    : s.forecast.status === 'empty'
      ? 'empty now'
      : s.forecast.status === 'not-declining'
        ? 'not declining'
        : 'not enough history';

export function suppliesHtml(supplies: readonly LowSupply[]): string {
  const rows = supplies.map((s) => [
    c(s.agentId),
    c(s.deviceId),
    c(s.name),
    c(s.kind),
    c(s.level, 'num'),
    c(s.state, s.state === 'empty' ? 'fail' : 'sev-warning'),
    c(fmtTime(s.readAt), undefined, s.readAt),
    c(forecastText(s)),
  ]);
  const t = table(
    'supplies',
    ['Agent', 'Device', 'Supply', 'Kind', 'Level %', 'State', 'Read at', 'Forecast empty'],
    rows,
    'no supply at or below low',
  );
  return section('supplies-section', 'Supplies at or below low', t);
}

export function deviceHtml(d: DeviceUsage, index: number, svg: string): string {
  const title = `${d.agentId} / ${d.deviceId}${d.serial ? ` (serial ${d.serial})` : ''}`;
  const months = d.months.map((m) => [
    c(m.month),
    c(m.pages, 'num'),
    c(m.mono, 'num'),
    c(m.colour, 'num'),
    c(m.status, m.status === 'read' ? undefined : 'muted'),
  ]);
  const t = table(`usage-${index}`, ['Month (UTC)', 'Pages', 'Mono', 'Colour', 'Status'], months, 'no readings in this period');
  return `<div class="device">\n<h3>${escapeHtml(title)}</h3>\n<figure class="chart">${svg}</figure>\n${t}\n</div>`;
}

export function usageHtml(devices: readonly DeviceUsage[], svgs: readonly string[]): string {
  const body =
    devices.length === 0
      ? p('no counter readings yet (rds request-counters)', 'muted')
      : devices.map((d, i) => deviceHtml(d, i, svgs[i] ?? '')).join('\n');
  return section('usage-section', 'Page counts', body);
}
