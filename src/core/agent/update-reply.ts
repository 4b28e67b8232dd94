/**
 * The agent's replies to the host about updates and versions: the signed payload carries the
 * report; versions.txt (the version report text) is for people. One place for the bodies of
 * an update-result, whether the update came by mail now or waited for the install window.
 */
import type { ApplyResult } from '../install/apply.js';
import { readVersionReport } from '../install/installed.js';
import { boundLogTail } from '../install/log-tail.js';
import { VERSIONS_ATTACHMENT } from '../message/mail.js';
import { queueMessage } from '../message/outgoing.js';
import type { BodyOf } from '../protocol/index.js';
import type { UPDATE_RESULT, UpdateResultBody } from '../protocol/update-result.js';
import type { VERSION_REPORT } from '../protocol/version-report.js';
import { formatVersionText } from '../version/version-text.js';
import type { AgentHandlerContext } from './handlers.js';

/** Reply to the host: the signed payload carries the report; versions.txt is for people. */
export async function reply<T extends typeof UPDATE_RESULT | typeof VERSION_REPORT>(
  ctx: AgentHandlerContext,
  type: T,
  inReplyTo: string,
  body: BodyOf<T>,
  subject: string,
) {
  const versionText = formatVersionText(readVersionReport(ctx.db));
  await queueMessage(
    ctx.db,
    ctx.self,
    {
      type,
      toId: ctx.config.hostId,
      toAddress: ctx.config.hostAddress,
      body,
      subject: `[rds] ${subject}`,
      text: `${subject}\n\n${versionText}`,
      inReplyTo,
      attachments: [{ filename: VERSIONS_ATTACHMENT, content: Buffer.from(versionText), contentType: 'text/plain; charset=utf-8' }],
    },
    { clock: ctx.clock, ttlMs: ctx.ttlMs },
  );
}

/** How an install ended, with the version report the agent runs now. */
export function resultBody(ctx: AgentHandlerContext, rolloutId: string, result: ApplyResult): UpdateResultBody {
  return {
    rolloutId,
    packageId: result.packageId,
    outcome: result.outcome,
    softwareVersion: result.version,
    versionText: formatVersionText(readVersionReport(ctx.db)),
    ...(result.reason ? { reason: result.reason } : {}),
    ...(result.reasonCode ? { reasonCode: result.reasonCode } : {}),
    ...(result.logTail ? { logTail: boundLogTail(result.logTail).text } : {}),
  };
}

/** An update not installed, and why (`reasonCode`: a refusal code, or UPDATE_SUPERSEDED). */
export function refusedBody(
  ctx: AgentHandlerContext,
  update: { rolloutId: string; packageId?: string | null },
  reason: string,
  reasonCode: string,
): UpdateResultBody {
  const report = readVersionReport(ctx.db);
  return {
    rolloutId: update.rolloutId,
    packageId: update.packageId ?? null,
    outcome: 'refused',
    softwareVersion: report.softwareVersion,
    versionText: formatVersionText(report),
    reason,
    reasonCode,
  };
}
