import { EXIT, UsageError } from '../core/errors.js';
import { eventsSince, queueTestAlert } from '../core/service/alerts.js';
import { serviceSettings } from '../core/service/settings.js';
import { parseDateArg } from './args.js';
import { openContext } from './context.js';
import { flushAll, mailExitCode, mailLine, summariseMail } from './mail-context.js';
import { runServicePass } from './service-pass.js';
import type { OptionsOf } from './specs/define.js';
import type { alertsFeed, alertsTest } from './specs/fleet.js';
import { formatTable, timeColumn } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

const ADDRESS_RE = /^[^@\s,<>"]+@[^@\s,<>"]+$/;

/** `rds alerts test [--to ADDR]`: a sample alert mail to every routed address (or ADDR), sent now. */
export async function runTest(options: OptionsOf<typeof alertsTest>, globals: GlobalOptions): Promise<CommandResult> {
  if (options.to !== undefined && !ADDRESS_RE.test(options.to))
    throw new UsageError('BAD_OPTION', `--to '${options.to}' is not a mail address`);
  const ctx = await openContext(globals, 'alerts test', { role: 'host' });
  try {
    const settings = serviceSettings(ctx.config);
    const to = options.to ? [options.to] : [...new Set(settings.routes.flatMap((r) => r.to))];
    if (to.length === 0) {
      throw new UsageError(
        'NO_ALERT_ROUTES',
        'no alert routes in the config (service.alerts.routes) and no --to: nobody to send a test to',
      );
    }
    const sent = await queueTestAlert(ctx.db, { id: ctx.config.id, address: ctx.config.address }, settings, to, ctx.clock);
    const mail = summariseMail(ctx, await flushAll(ctx));
    const went = !mail.stopped && mail.failed.length === 0;
    const lines = [...sent.map((s) => `test alert ${went ? 'sent' : 'queued'} to ${s.recipient}`), mailLine(mail)].filter(Boolean);
    return { exitCode: mailExitCode(EXIT.OK, mail), data: { sent, mail }, text: lines.join('\n') };
  } finally {
    ctx.close();
  }
}

/** `rds alerts feed [--since T] [--json]`: every event since T, for a ticket system. */
export async function runFeed(options: OptionsOf<typeof alertsFeed>, globals: GlobalOptions): Promise<CommandResult> {
  const since = options.since === undefined ? null : parseDateArg(options.since, '--since', { endOfDay: false }).toISOString();
  const ctx = await openContext(globals, 'alerts feed', { role: 'host' });
  try {
    await runServicePass(ctx, { alerts: false });
    const events = eventsSince(ctx.db, since);
    const text =
      events.length === 0
        ? 'no events'
        : formatTable(
            [timeColumn('At'), 'Source', 'Kind', 'Severity', 'Agent', 'Device', 'Subject', timeColumn('Cleared')],
            events.map((e) => [e.at, e.source, e.kind, e.severity, e.agentId, e.deviceId || '-', e.subject, e.clearedAt]),
          );
    return { data: { since, events }, text };
  } finally {
    ctx.close();
  }
}
