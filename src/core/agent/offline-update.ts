/**
 * `rds apply-update FILE.rdsx` (docs/install.md#offline-install-export-update): an exported
 * update (package/export-file.ts) is the update mail, so it goes through the mail path's
 * checks and its update handler, only read from a file instead of the inbox: the package
 * wrapped for this agent's key (PACKAGE_NOT_FOR_ME, checked first: a file for another
 * agent is refused before anything else), then every acceptance rule (host signature,
 * sender, for-me, expiry, replay: a file applies once), then the handler (version, package
 * signature and integrity, downgrade, install), which queues the update-result for the
 * host: the next poll-mail sends it and the install counts in the rollout. The id is
 * recorded as processed, as for mail; a refused file is left where it is.
 */

import { REFUSAL, SecurityError } from '../errors.js';
import type { ApplyResult } from '../install/apply.js';
import { type AcceptPolicy, acceptMessage } from '../message/accept.js';
import { recordProcessed } from '../message/inbound.js';
import { PACKAGE_ATTACHMENT, parseRdsMail } from '../message/mail.js';
import { readExportFile } from '../package/export-file.js';
import { checkPackageForMe } from '../package/unpack.js';
import { splitPackage } from '../package/wrap.js';
import { UPDATE } from '../protocol/update.js';
import { type AgentHandlerContext, agentHandlers } from './handlers.js';

export interface OfflineResult {
  /** the handler's outcome: installed, already-installed, rolled-back */
  outcome: string;
  payloadId: string;
  rolloutId: string | null;
  /** what the install did (absent when the handler did not install) */
  applied?: ApplyResult;
}

export async function applyExportedUpdate(ctx: AgentHandlerContext, policy: AcceptPolicy, file: string): Promise<OfflineResult> {
  const mail = await parseRdsMail(readExportFile(file));
  const pkg = mail.attachments.get(PACKAGE_ATTACHMENT);
  if (!pkg) throw new SecurityError(REFUSAL.MALFORMED, `${file} carries no ${PACKAGE_ATTACHMENT}`);
  await checkPackageForMe(splitPackage(pkg).prefix, ctx.self.key);
  const accepted = await acceptMessage(mail.from, mail.armoredPayload, policy).catch((error: unknown) => {
    if (error instanceof SecurityError && error.code === REFUSAL.REPLAYED) {
      throw new SecurityError(
        REFUSAL.REPLAYED,
        `${error.message}: this file was applied before; for another try export a new one on the host`,
      );
    }
    throw error;
  });
  const { payload } = accepted;
  if (payload.type !== UPDATE) {
    throw new SecurityError(REFUSAL.UNKNOWN_TYPE, `${file} carries a '${payload.type}' message, not an update`);
  }
  let applied: ApplyResult | undefined;
  const handle = agentHandlers({ ...ctx, onApplied: (r) => (applied = r) })[UPDATE];
  const outcome = await (handle as NonNullable<typeof handle>)({ accepted, mail });
  recordProcessed(ctx.db, payload.id, payload.type, accepted.sender.id, outcome, ctx.clock.now());
  const rolloutId = typeof payload.body.rolloutId === 'string' ? payload.body.rolloutId : null;
  return { outcome, payloadId: payload.id, rolloutId, ...(applied ? { applied } : {}) };
}
