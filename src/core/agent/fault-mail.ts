import {
  type FaultEvent,
  type FaultReport,
  listOverdueFaultReports,
  listPendingFaultReports,
  markFaultReported,
  markFaultResent,
  markFaultUnacknowledged,
} from '../devices/watch.js';
import type { ReportedFault } from '../protocol/fault-report.js';
import type { AgentHandlerContext } from './handlers.js';

function toReported(report: FaultReport, resent: boolean): ReportedFault {
  const e: FaultEvent = report.event;
  return {
    eventId: e.eventId,
    kind: report.kind,
    deviceId: e.deviceId,
    code: e.code,
    subunit: e.subunit,
    severity: e.severity,
    source: e.source,
    raisedAt: e.raisedAt,
    clearedAt: e.clearedAt ?? null,
    resent,
  };
}

async function queueFaultReport(ctx: AgentHandlerContext, reports: ReportedFault[], resent: boolean): Promise<string> {
  const [{ queueMessage }, { FAULT_REPORT }] = await Promise.all([import('../message/outgoing.js'), import('../protocol/fault-report.js')]);
  const summary = reports.map(
    (r) => `${r.kind === 'raised' ? 'RAISED' : 'cleared'} ${r.code}${r.subunit ? ` (${r.subunit})` : ''} on ${r.deviceId}`,
  );
  const payload = await queueMessage(
    ctx.db,
    ctx.self,
    {
      type: FAULT_REPORT,
      toId: ctx.config.hostId,
      toAddress: ctx.config.hostAddress,
      body: { reports },
      subject: `[rds] ${resent ? 'resent ' : ''}fault report from ${ctx.self.id}: ${summary[0]}${summary.length > 1 ? ` (+${summary.length - 1})` : ''}`,
      text: summary.join('\n'),
    },
    { clock: ctx.clock, ttlMs: ctx.ttlMs },
  );
  return payload.id;
}

/**
 * Queue every pending fault report in one signed message, resend once what the host did
 * not ack within the ack window, and give up on what stayed unacked after the resend
 * (docs/commands.md#agent-commands: resend once, then give up — recorded, not forgotten).
 * `sender` gives the handler context (keys, openpgp) and is called only when there is a
 * report to sign: a pass with nothing to report reads no key.
 */
export async function queueFaultMail(
  ctx: Pick<AgentHandlerContext, 'db' | 'clock'>,
  sender: () => Promise<AgentHandlerContext>,
  ackWindowMs: number,
): Promise<{ reported: number; resent: number; unacknowledged: number }> {
  const now = ctx.clock.now();
  const pending = listPendingFaultReports(ctx.db);
  if (pending.length > 0) {
    const id = await queueFaultReport(
      await sender(),
      pending.map((r) => toReported(r, false)),
      false,
    );
    for (const r of pending) markFaultReported(ctx.db, r.event.eventId, r.kind, id, now);
  }
  const { resend, giveUp } = listOverdueFaultReports(ctx.db, now, ackWindowMs);
  if (resend.length > 0) {
    const id = await queueFaultReport(
      await sender(),
      resend.map((r) => toReported(r, true)),
      true,
    );
    for (const r of resend) markFaultResent(ctx.db, r.event.eventId, r.kind, id, now);
  }
  for (const r of giveUp) markFaultUnacknowledged(ctx.db, r.event.eventId, r.kind);
  return { reported: pending.length, resent: resend.length, unacknowledged: giveUp.length };
}
