import { sleep } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import { EXIT } from '../core/errors.js';
import { allReplied, type VerifyReport, verifyFleet } from '../core/host/verify.js';
import { lastLogLine } from '../core/install/log-tail.js';
import { showText } from '../core/text/show.js';
import { parseVersion } from '../core/version/version.js';
import { openContext } from './context.js';
import { takeInMail } from './host-inbox.js';
import { flushAll, mailLine, summariseMail } from './mail-context.js';
import type { OptionsOf } from './specs/define.js';
import type { verify } from './specs/host.js';
import { formatTable, timeColumn } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

export function formatVerifyTable(report: VerifyReport): string {
  const table = formatTable(
    ['Agent ID', 'Mail address', 'Version', timeColumn('Last version check'), 'Note', 'Failed'],
    report.agents.map((a) => [a.agentId, a.address, a.version ?? '-', a.checkedAt, a.note, a.failed ? `✗ ${a.reason}` : '']),
  );
  // why, in the agent's own words: its reason and the last line of its install log
  const why = report.agents
    .filter((a) => a.failed && (a.detail || a.logTail))
    .map((a) => {
      const last = lastLogLine(a.logTail);
      return `${showText(a.agentId)}: ${showText(a.detail ?? a.reason ?? '')}${last ? ` (log: ${showText(last)})` : ''}`;
    });
  const pending =
    report.pending > 0
      ? [`${report.pending} agent${report.pending === 1 ? '' : 's'} still pending (not sent yet: rds rollout status)`]
      : [];
  return [`update to: ${report.target}`, table, `${report.failed} of ${report.agents.length} agents failed`, ...pending, ...why].join('\n');
}

export async function run(options: OptionsOf<typeof verify>, globals: GlobalOptions): Promise<CommandResult> {
  if (options.target !== undefined) parseVersion(options.target, '--target');
  const ctx = await openContext(globals, 'verify', {
    role: 'host',
    lock: options.wait ? { perPass: ['mailbox', 'outbox'] } : !options.inbox ? [] : ['mailbox'],
  });
  try {
    const now = () => ctx.clock.now().getTime();
    const deadline = options.wait ? now() + parseDuration(options.wait, '--wait') : 0;
    let report: VerifyReport;
    while (true) {
      if (options.inbox) await takeInMail(ctx);
      report = verifyFleet(ctx.db, {
        ...(options.target ? { target: options.target } : {}),
        ...(options.rollout ? { rolloutId: options.rollout } : {}),
      });
      if (!options.wait || allReplied(report) || now() >= deadline) break;
      await sleep(Math.min(2000, Math.max(0, deadline - now())));
    }
    // the acks of fault reports taken in above go out now, not with some later command; verify's
    // exit code stays the fleet's (0/1): mail that cannot go out now is queued, the line says so
    const mail = !options.inbox ? undefined : summariseMail(ctx, await flushAll(ctx));
    const data = {
      target: report.target,
      rolloutId: report.rolloutId,
      agents: report.agents, // its rows as they are: fields in this order (core/host/verify.ts judge)
      failed: report.failed,
      pending: report.pending,
      ...(mail ? { mail } : {}),
    };
    const line = mail ? mailLine(mail) : '';
    const text = formatVerifyTable(report) + (line ? `\n${line}` : '');
    return { exitCode: report.failed > 0 ? EXIT.FAILED : EXIT.OK, data, text };
  } finally {
    ctx.close();
  }
}
