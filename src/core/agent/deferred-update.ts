/**
 * The install window on the agent (docs/install.md#install-window). An update that arrives
 * while the window is closed is verified at once (every check apply-update makes before it
 * installs), staged (core/install/staged.ts) and answered `deferred` with the window's next
 * opening; the first `poll-mail` pass inside the window installs it through the same apply
 * path and sends the same update-result as an update installed on arrival.
 */
import fs from 'node:fs';
import { SecurityError } from '../errors.js';
import { type ApplyInput, applyUpdate } from '../install/apply.js';
import { readVersionReport } from '../install/installed.js';
import { installLayout } from '../install/layout.js';
import { clearStaged, readStaged, type StagedUpdate, stashUpdate, verifyUpdate } from '../install/staged.js';
import type { UpdateBody } from '../protocol/update.js';
import { UPDATE_RESULT, type UpdateResultBody } from '../protocol/update-result.js';
import { acquireCommandLock } from '../store/lock.js';
import { formatVersionText } from '../version/version-text.js';
import type { AgentHandlerContext } from './handlers.js';
import { windowClosedUntil } from './staged-due.js';
import { refusedBody, reply, resultBody } from './update-reply.js';

/** The reason code of an update not staged, or unstaged, because a newer one is staged. */
export const UPDATE_SUPERSEDED = 'UPDATE_SUPERSEDED';

export { windowClosedUntil } from './staged-due.js';

function applyInput(ctx: AgentHandlerContext, file: string): ApplyInput {
  return {
    db: ctx.db,
    layout: installLayout(ctx.config.installRoot),
    stateDir: ctx.config.stateDir,
    file,
    agentKey: ctx.self.key,
    hostKey: ctx.hostKey,
    clock: ctx.clock,
    logger: ctx.logger,
  };
}

/**
 * An update outside the window: verify now (a refusal is told to the host and the mail
 * quarantined, as on arrival inside the window), then stage it and answer `deferred`.
 * Returns the outcome for the receive loop.
 */
export async function deferUpdate(ctx: AgentHandlerContext, update: UpdateBody, commandId: string, file: string, until: Date) {
  const lock = acquireCommandLock(ctx.config.stateDir, 'install');
  let body: UpdateResultBody;
  try {
    const verified = await verifyUpdate({ ...applyInput(ctx, file), commandId, expectedVersion: update.softwareVersion });
    const { manifest } = verified;
    if (verified.kind === 'already-installed') {
      const running = readVersionReport(ctx.db).softwareVersion;
      body = resultBody(ctx, update.rolloutId, {
        outcome: 'already-installed',
        packageId: manifest.packageId,
        version: running,
        previousVersion: running,
      });
    } else {
      const stashed = stashUpdate(ctx.db, ctx.config.stateDir, file, {
        packageId: manifest.packageId,
        softwareVersion: manifest.softwareVersion,
        commandId,
        rolloutId: update.rolloutId,
        stagedAt: ctx.clock.now().toISOString(),
        deferredUntil: until.toISOString(),
      });
      if (stashed.kind === 'staged' && stashed.replaced) await tellSuperseded(ctx, stashed.replaced, stashed.staged);
      body =
        stashed.kind === 'superseded'
          ? refusedBody(
              ctx,
              { rolloutId: update.rolloutId, packageId: manifest.packageId },
              supersededReason(stashed.staged),
              UPDATE_SUPERSEDED,
            )
          : deferredBody(ctx, stashed.staged);
    }
  } catch (error) {
    if (!(error instanceof SecurityError)) throw error;
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
    fs.rmSync(file, { force: true }); // staged: already moved away
  }
  const outcome = body.reasonCode === UPDATE_SUPERSEDED ? 'superseded' : body.outcome;
  await reply(ctx, UPDATE_RESULT, commandId, body, `update ${outcome}: ${ctx.self.id} runs ${body.softwareVersion}`);
  return outcome;
}

function deferredBody(ctx: AgentHandlerContext, staged: StagedUpdate): UpdateResultBody {
  const report = readVersionReport(ctx.db);
  return {
    rolloutId: staged.rolloutId,
    packageId: staged.packageId,
    outcome: 'deferred',
    softwareVersion: report.softwareVersion,
    versionText: formatVersionText(report),
    reason: `staged; installs when the install window ${ctx.config.installWindow} opens`,
    deferredUntil: staged.deferredUntil,
  };
}

const supersededReason = (by: StagedUpdate) =>
  `package ${by.packageId} (version ${by.softwareVersion}) is staged for the install window and supersedes this one`;

/** A staged update replaced by a newer one: its rollout hears it will not be installed. */
async function tellSuperseded(ctx: AgentHandlerContext, old: StagedUpdate, by: StagedUpdate): Promise<void> {
  const body = refusedBody(ctx, old, supersededReason(by), UPDATE_SUPERSEDED);
  await reply(ctx, UPDATE_RESULT, old.commandId, body, `update ${old.softwareVersion} superseded on ${ctx.self.id}`);
}

/**
 * A `poll-mail` pass: install the staged update if the window is open now (or no longer
 * configured), through apply-update, and queue its result. Undefined when nothing was due,
 * or when another install holds the lock (the next pass tries again).
 */
export async function installStagedIfDue(ctx: AgentHandlerContext): Promise<{ packageId: string; outcome: string } | undefined> {
  const staged = readStaged(ctx.db);
  if (!staged || windowClosedUntil(ctx)) return undefined;
  let lock: ReturnType<typeof acquireCommandLock>;
  try {
    lock = acquireCommandLock(ctx.config.stateDir, 'install');
  } catch (error) {
    if ((error as { code?: string }).code === 'COMMAND_LOCKED') return undefined;
    throw error;
  }
  let body: UpdateResultBody;
  try {
    const result = await applyUpdate({
      ...applyInput(ctx, staged.file),
      commandId: staged.commandId,
      expectedVersion: staged.softwareVersion,
    });
    body = resultBody(ctx, staged.rolloutId, result);
  } catch (error) {
    // refused now (say the host key was rotated since): told, and never tried again
    if (!(error instanceof SecurityError)) throw error;
    body = refusedBody(ctx, staged, error.message, error.code);
  } finally {
    lock.release();
  }
  clearStaged(ctx.db, ctx.config.stateDir);
  await reply(ctx, UPDATE_RESULT, staged.commandId, body, `update ${body.outcome}: ${ctx.self.id} runs ${body.softwareVersion}`);
  ctx.logger.info('staged update done', { package: staged.packageId, outcome: body.outcome });
  return { packageId: staged.packageId, outcome: body.outcome };
}
