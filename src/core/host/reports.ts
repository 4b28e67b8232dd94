import type { Clock } from '../clock.js';
import { ParseError, REFUSAL, type RefusalCode, SecurityError } from '../errors.js';
import { type BoundedTail, boundLogTail, LOG_TAIL_TRUNCATED } from '../install/log-tail.js';
import type { Logger } from '../logger.js';
import type { Handler, HandlerRegistry } from '../message/inbound.js';
import type { Db } from '../store/db.js';
import { parseVersionText } from '../version/version-text.js';
import { recordAgentVersion } from './registry.js';
import { markAnswered } from './requests.js';
import { recordResult } from './rollout-store.js';

export interface HostHandlerContext {
  db: Db;
  clock: Clock;
  logger?: Logger;
}

/** A version-grammar or field-charset breach has its own reason code; any other defect is MALFORMED. */
export function refusalFor(error: ParseError): RefusalCode {
  if (error.code === 'BAD_VERSION') return REFUSAL.BAD_VERSION;
  if (error.code === 'BAD_FIELD') return REFUSAL.BAD_FIELD;
  return REFUSAL.MALFORMED;
}

function readReport(body: Record<string, unknown>): { softwareVersion: string; versionText: string } {
  if (typeof body.versionText !== 'string') throw new SecurityError(REFUSAL.MALFORMED, 'report carries no versionText');
  let parsed: ReturnType<typeof parseVersionText>;
  try {
    parsed = parseVersionText(body.versionText);
  } catch (error) {
    if (error instanceof ParseError) throw new SecurityError(refusalFor(error), `report's ${error.message}`);
    throw error;
  }
  if (body.softwareVersion !== undefined && body.softwareVersion !== parsed.softwareVersion) {
    throw new SecurityError(
      REFUSAL.MALFORMED,
      `report says ${String(body.softwareVersion)} but its version text says ${parsed.softwareVersion}`,
    );
  }
  return { softwareVersion: parsed.softwareVersion, versionText: body.versionText };
}

function storeReport(
  ctx: HostHandlerContext,
  kind: 'version-report' | 'update-result',
  p: { id: string; from: string; issuedAt: string; inReplyTo?: string },
  report: { softwareVersion: string; versionText: string },
): void {
  const now = ctx.clock.now().toISOString();
  ctx.db
    .prepare(
      `INSERT OR IGNORE INTO version_reports (message_id, agent_id, kind, software_version, report_text, in_reply_to, received_at, issued_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(p.id, p.from, kind, report.softwareVersion, report.versionText, p.inReplyTo ?? null, now, p.issuedAt);
  recordAgentVersion(ctx.db, p.from, report.softwareVersion, p.issuedAt);
  markAnswered(ctx.db, p.inReplyTo, p.from, report.softwareVersion, now);
}

/**
 * The install log tail an update result may carry: text or absent. Anything else is a
 * malformed result (refused); text over the limits is cut to them and marked
 * LOG_TAIL_TRUNCATED, so a long log never costs the result itself.
 */
function readLogTail(body: Record<string, unknown>): BoundedTail | undefined {
  if (body.logTail === undefined || body.logTail === null) return undefined;
  if (typeof body.logTail !== 'string') throw new SecurityError(REFUSAL.MALFORMED, "update result's logTail is not text");
  return boundLogTail(body.logTail);
}

const UPDATE_OUTCOMES = new Set(['installed', 'already-installed', 'rolled-back', 'refused']);

const handleVersionReport =
  (ctx: HostHandlerContext): Handler =>
  async ({ accepted }) => {
    storeReport(ctx, 'version-report', accepted.payload, readReport(accepted.payload.body));
    return 'stored';
  };

const handleUpdateResult =
  (ctx: HostHandlerContext): Handler =>
  async ({ accepted }) => {
    const { payload } = accepted;
    const body = payload.body;
    if (typeof body.rolloutId !== 'string' || typeof body.outcome !== 'string' || !UPDATE_OUTCOMES.has(body.outcome)) {
      throw new SecurityError(REFUSAL.MALFORMED, 'update result lacks rolloutId/outcome');
    }
    const report = readReport(body);
    const log = readLogTail(body);
    if (log?.truncated) ctx.logger?.warn('update result: log tail cut to its limit', { agent: payload.from, code: LOG_TAIL_TRUNCATED });
    ctx.db.transaction(() => {
      storeReport(ctx, 'update-result', payload, report);
      recordResult(ctx.db, {
        rolloutId: body.rolloutId as string,
        agentId: payload.from,
        outcome: String(body.outcome),
        version: report.softwareVersion,
        detail: typeof body.reason === 'string' ? body.reason.slice(0, 4000) : null,
        at: payload.issuedAt,
        log: log?.text ?? null,
        logNote: log?.truncated ? LOG_TAIL_TRUNCATED : null,
      });
    })();
    return String(body.outcome);
  };

export function hostHandlers(ctx: HostHandlerContext, extra: HandlerRegistry = {}): HandlerRegistry {
  return {
    'version-report': handleVersionReport(ctx),
    'update-result': handleUpdateResult(ctx),
    ...extra,
  };
}
