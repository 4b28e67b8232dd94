/**
 * A package file the agent holds, installed as an update mail asks: the same path whether the
 * package came whole in one `update` mail or was reassembled from `update-part` mails
 * (docs/install.md#update-parts). Outside the install window it is verified and staged
 * (deferred-update.ts); inside, it installs under the install lock and the host hears the
 * update-result. A refusal is told to the host, then rethrown (the mail goes to quarantine).
 * The file is gone afterwards (installed, staged or refused). A package reassembled from
 * parts comes as its parts read in order (`JoinedPackage`): installed straight from them, or
 * joined into one file only when it is staged for the install window.
 */
import fs from 'node:fs';
import { SecurityError } from '../errors.js';
import { installOnAgent } from '../install/agent-node.js';
import type { PackageSource } from '../package/source.js';
import type { UpdateBody } from '../protocol/update.js';
import { UPDATE_RESULT, type UpdateResultBody } from '../protocol/update-result.js';
import { deferUpdate, windowClosedUntil } from './deferred-update.js';
import type { AgentHandlerContext } from './handlers.js';
import { refusedBody, reply, resultBody } from './update-reply.js';

/** A package read from its parts: the source the install decrypts, or one joined file (made on demand) to stage. */
export interface JoinedPackage {
  source: PackageSource;
  /** the package as one file (0600, synced), for the staged slot */
  assemble(): string;
}

export async function installUpdateFile(
  ctx: AgentHandlerContext,
  update: UpdateBody,
  commandId: string,
  pkg: string | JoinedPackage,
): Promise<string> {
  // outside the agent's install window: verified and staged now, installed when it opens
  const closedUntil = windowClosedUntil(ctx);
  if (closedUntil) return deferUpdate(ctx, update, commandId, typeof pkg === 'string' ? pkg : pkg.assemble(), closedUntil);
  const { acquireCommandLock } = await import('../store/lock.js');
  const lock = acquireCommandLock(ctx.config.stateDir, 'install');
  let body: UpdateResultBody;
  try {
    const result = await installOnAgent(
      ctx,
      typeof pkg === 'string' ? pkg : pkg.source,
      { agentKey: ctx.self.key, hostKey: ctx.hostKey },
      { commandId, expectedVersion: update.softwareVersion },
    );
    ctx.onApplied?.(result);
    body = resultBody(ctx, update.rolloutId, result);
  } catch (error) {
    if (!(error instanceof SecurityError)) throw error;
    // tell the host, then let the mail go to quarantine with the reason
    await reply(
      ctx,
      UPDATE_RESULT,
      commandId,
      refusedBody(ctx, update, error.message, error.code),
      `update ${update.softwareVersion} refused by ${ctx.self.id}`,
    );
    throw error;
  } finally {
    lock.release();
    if (typeof pkg === 'string') fs.rmSync(pkg, { force: true });
  }
  await reply(ctx, UPDATE_RESULT, commandId, body, `update ${body.outcome}: ${ctx.self.id} runs ${body.softwareVersion}`);
  return body.outcome;
}
