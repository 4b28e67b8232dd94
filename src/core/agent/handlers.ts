import fs from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import type { Clock } from '../clock.js';
import type { AgentConfig } from '../config/schema.js';
import { diskFullError, REFUSAL, SecurityError } from '../errors.js';
import { mkdirNoFollow, replaceFileSafely } from '../fs/trust.js';
import { agentVersionReport } from '../install/agent-node.js';
import type { ApplyResult } from '../install/apply.js';
import type { Logger } from '../logger.js';
import type { Handler, HandlerRegistry } from '../message/inbound.js';
import { PACKAGE_ATTACHMENT } from '../message/mail.js';
import type { Sender } from '../message/outgoing.js';
import { bodyHandler } from '../protocol/index.js';
import { KEY_ROTATION } from '../protocol/key-rotation.js';
import { UPDATE } from '../protocol/update.js';
import { UPDATE_PART } from '../protocol/update-part.js';
import { VERSION_REPORT } from '../protocol/version-report.js';
import { VERSION_REQUEST } from '../protocol/version-request.js';
import type { Db } from '../store/db.js';
import { formatVersionText } from '../version/version-text.js';
import { installUpdateFile } from './install-update.js';
import { handleKeyRotation } from './key-rotation.js';
import { handleUpdatePart } from './parts-handler.js';
import { reply } from './update-reply.js';

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
    return installUpdateFile(ctx, update, payload.id, file);
  });

const handleVersionRequest = (ctx: AgentHandlerContext): Handler =>
  bodyHandler(VERSION_REQUEST, ctx.clock, async (_request, { accepted }) => {
    const report = agentVersionReport(ctx);
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
    [UPDATE_PART]: handleUpdatePart(ctx),
    [VERSION_REQUEST]: handleVersionRequest(ctx),
    [KEY_ROTATION]: handleKeyRotation(ctx),
    ...extra,
  };
}
