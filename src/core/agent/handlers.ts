import fs from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import type { Clock } from '../clock.js';
import type { AgentConfig } from '../config/schema.js';
import { diskFullError, REFUSAL, SecurityError } from '../errors.js';
import { mkdirNoFollow, replaceFileSafely } from '../fs/trust.js';
import { type ApplyResult, applyUpdate } from '../install/apply.js';
import { readVersionReport } from '../install/installed.js';
import { installLayout } from '../install/layout.js';
import { boundLogTail } from '../install/log-tail.js';
import { currentVersionReport } from '../install/recover.js';
import type { Logger } from '../logger.js';
import type { Handler, HandlerRegistry } from '../message/inbound.js';
import { PACKAGE_ATTACHMENT, VERSIONS_ATTACHMENT } from '../message/mail.js';
import { queueMessage, type Sender } from '../message/outgoing.js';
import { type BodyOf, bodyHandler } from '../protocol/index.js';
import { KEY_ROTATION } from '../protocol/key-rotation.js';
import { UPDATE, type UpdateBody } from '../protocol/update.js';
import { UPDATE_RESULT, type UpdateResultBody } from '../protocol/update-result.js';
import { VERSION_REPORT } from '../protocol/version-report.js';
import { VERSION_REQUEST } from '../protocol/version-request.js';
import type { Db } from '../store/db.js';
import { formatVersionText } from '../version/version-text.js';
import { handleKeyRotation } from './key-rotation.js';

export interface AgentHandlerContext {
  db: Db;
  config: AgentConfig;
  self: Sender;
  hostKey: openpgp.PublicKey;
  clock: Clock;
  ttlMs: number;
  logger: Logger;
  /** sees what the update handler's install did (apply-update of an exported file prints it) */
  onApplied?: (result: ApplyResult) => void;
}

/** Reply to the host: the signed payload carries the report; versions.txt is for people. */
async function reply<T extends typeof UPDATE_RESULT | typeof VERSION_REPORT>(
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

/**
 * update → apply-update, then report. The result goes out only after the switch and the
 * script's success (two-phase): a rolled-back agent reports the old version and why.
 */
const handleUpdate = (ctx: AgentHandlerContext): Handler =>
  bodyHandler(UPDATE, ctx.clock, async (update, { accepted, mail }) => {
    const { payload } = accepted;
    const pkg = mail.attachments.get(PACKAGE_ATTACHMENT);
    if (!pkg) throw new SecurityError(REFUSAL.MALFORMED, `update mail carries no ${PACKAGE_ATTACHMENT}`);
    const incoming = path.join(ctx.config.stateDir, 'incoming');
    mkdirNoFollow(incoming);
    const file = path.join(incoming, `${payload.id}.rdsu`);
    try {
      replaceFileSafely(file, pkg, 0o600);
    } catch (error) {
      // disk full: a clear transient error (exit 3, the mail stays in INBOX), not a stack trace
      fs.rmSync(file, { force: true });
      throw diskFullError(error, incoming) ?? error;
    }
    const { acquireCommandLock } = await import('../store/lock.js');
    const lock = acquireCommandLock(ctx.config.stateDir, 'install');
    let body: UpdateResultBody;
    try {
      const result = await applyUpdate({
        db: ctx.db,
        layout: installLayout(ctx.config.installRoot),
        stateDir: ctx.config.stateDir,
        file,
        agentKey: ctx.self.key,
        hostKey: ctx.hostKey,
        clock: ctx.clock,
        logger: ctx.logger,
        commandId: payload.id,
        expectedVersion: update.softwareVersion,
      });
      ctx.onApplied?.(result);
      body = {
        rolloutId: update.rolloutId,
        packageId: result.packageId,
        outcome: result.outcome,
        softwareVersion: result.version,
        versionText: formatVersionText(readVersionReport(ctx.db)),
        ...(result.reason ? { reason: result.reason } : {}),
        ...(result.reasonCode ? { reasonCode: result.reasonCode } : {}),
        ...(result.logTail ? { logTail: boundLogTail(result.logTail).text } : {}),
      };
    } catch (error) {
      if (!(error instanceof SecurityError)) throw error;
      // tell the host, then let the mail go to quarantine with the reason
      await reply(
        ctx,
        UPDATE_RESULT,
        payload.id,
        refusedBody(ctx, update, error),
        `update ${update.softwareVersion} refused by ${ctx.self.id}`,
      );
      throw error;
    } finally {
      lock.release();
      fs.rmSync(file, { force: true });
    }
    await reply(ctx, UPDATE_RESULT, payload.id, body, `update ${body.outcome}: ${ctx.self.id} runs ${body.softwareVersion}`);
    return body.outcome;
  });

function refusedBody(ctx: AgentHandlerContext, body: UpdateBody, error: SecurityError): UpdateResultBody {
  const report = readVersionReport(ctx.db);
  return {
    rolloutId: body.rolloutId,
    packageId: body.packageId ?? null,
    outcome: 'refused',
    softwareVersion: report.softwareVersion,
    versionText: formatVersionText(report),
    reason: error.message,
    reasonCode: error.code,
  };
}

const handleVersionRequest = (ctx: AgentHandlerContext): Handler =>
  bodyHandler(VERSION_REQUEST, ctx.clock, async (_request, { accepted }) => {
    const report = currentVersionReport({
      db: ctx.db,
      layout: installLayout(ctx.config.installRoot),
      stateDir: ctx.config.stateDir,
      clock: ctx.clock,
      logger: ctx.logger,
    });
    await reply(
      ctx,
      VERSION_REPORT,
      accepted.payload.id,
      { softwareVersion: report.softwareVersion, versionText: formatVersionText(report) },
      `version report: ${ctx.self.id} runs ${report.softwareVersion}`,
    );
    return 'reported';
  });

/** The dispatcher's registry; fault acks and counter requests plug in here too. */
export function agentHandlers(ctx: AgentHandlerContext, extra: HandlerRegistry = {}): HandlerRegistry {
  return {
    [UPDATE]: handleUpdate(ctx),
    [VERSION_REQUEST]: handleVersionRequest(ctx),
    [KEY_ROTATION]: handleKeyRotation(ctx),
    ...extra,
  };
}
