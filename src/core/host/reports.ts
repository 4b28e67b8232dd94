import { auditUpdateResult } from '../audit/outcomes.js';
import type { Clock } from '../clock.js';
import { LOG_TAIL_TRUNCATED } from '../install/log-tail.js';
import type { Logger } from '../logger.js';
import type { Handler, HandlerRegistry } from '../message/inbound.js';
import { bodyHandler } from '../protocol/index.js';
import { readUpdateResult, UPDATE_RESULT } from '../protocol/update-result.js';
import { VERSION_REPORT, type VersionReportBody } from '../protocol/version-report.js';
import type { Db } from '../store/db.js';
import { runLater } from '../store/statement.js';
import { recordAgentVersion } from './registry.js';
import { markAnswered } from './requests.js';
import { recordResult } from './rollout-store.js';
import { recordResultState } from './rollout-waves-store.js';

export interface HostHandlerContext {
  db: Db;
  clock: Clock;
  logger?: Logger;
}

function storeReport(
  ctx: HostHandlerContext,
  kind: typeof VERSION_REPORT | typeof UPDATE_RESULT,
  p: { id: string; from: string; issuedAt: string; inReplyTo?: string },
  report: VersionReportBody,
): void {
  const now = ctx.clock.now().toISOString();
  runLater(
    ctx.db,
    `INSERT OR IGNORE INTO version_reports (message_id, agent_id, kind, software_version, report_text, in_reply_to, received_at, issued_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    p.id,
    p.from,
    kind,
    report.softwareVersion,
    report.versionText,
    p.inReplyTo ?? null,
    now,
    p.issuedAt,
  );
  recordAgentVersion(ctx.db, p.from, report.softwareVersion, p.issuedAt);
  markAnswered(ctx.db, p.inReplyTo, p.from, report.softwareVersion, now);
}

const handleVersionReport = (ctx: HostHandlerContext): Handler =>
  bodyHandler(VERSION_REPORT, ctx.clock, async (report, { accepted }) => {
    storeReport(ctx, VERSION_REPORT, accepted.payload, report);
    return 'stored';
  });

/** update-result: the decoder cuts a log tail over its limits; that is recorded, not refused. */
const handleUpdateResult =
  (ctx: HostHandlerContext): Handler =>
  async ({ accepted }) => {
    const { payload } = accepted;
    const { body, logTailCut } = readUpdateResult(payload.body);
    if (logTailCut) ctx.logger?.warn('update result: log tail cut to its limit', { agent: payload.from, code: LOG_TAIL_TRUNCATED });
    ctx.db.transaction(() => {
      storeReport(ctx, UPDATE_RESULT, payload, body);
      recordResult(ctx.db, {
        rolloutId: body.rolloutId,
        agentId: payload.from,
        outcome: body.outcome,
        version: body.softwareVersion,
        detail: body.reason === undefined ? null : body.reason.slice(0, 4000),
        at: payload.issuedAt,
        log: body.logTail ?? null,
        logNote: logTailCut ? LOG_TAIL_TRUNCATED : null,
      });
      // the agent's state in the rollout (docs/rollouts.md#agent-states)
      recordResultState(ctx.db, {
        rolloutId: body.rolloutId,
        agentId: payload.from,
        outcome: body.outcome,
        reasonCode: body.reasonCode,
        version: body.softwareVersion,
        at: payload.issuedAt,
        deferredUntil: body.deferredUntil,
      });
      auditUpdateResult(ctx.db, payload.from, body, ctx.clock.now());
    })();
    return body.outcome;
  };

export function hostHandlers(ctx: HostHandlerContext, extra: HandlerRegistry = {}): HandlerRegistry {
  return {
    [VERSION_REPORT]: handleVersionReport(ctx),
    [UPDATE_RESULT]: handleUpdateResult(ctx),
    ...extra,
  };
}
