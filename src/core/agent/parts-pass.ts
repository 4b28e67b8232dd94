/**
 * What every `poll-mail` pass does for packages in reassembly, mail or not
 * (docs/install.md#update-parts): a package whose first part came `parts.deadline` ago is
 * dropped (the host hears `refused` PARTS_EXPIRED when it was still incomplete), and one still
 * incomplete `requestMissingAfter` after its newest part (and after its last request) makes
 * the agent send a `parts-request` naming the missing numbers, at most `parts.maxRequests`
 * times.
 */
import { formatDuration } from '../duration.js';
import { queueMessage } from '../message/outgoing.js';
import { PARTS_REQUEST } from '../protocol/parts-request.js';
import { UPDATE_RESULT } from '../protocol/update-result.js';
import type { AgentHandlerContext } from './handlers.js';
import { type PartsLimits, partsLimits } from './parts-limits.js';
import { type PartPackage, PartStore } from './parts-store.js';
import { refusedBody, reply } from './update-reply.js';

/** The reason code told to the host when a package's parts never all came before the deadline. */
export const PARTS_EXPIRED = 'PARTS_EXPIRED';

export interface PartsPassResult {
  expired: { rolloutId: string; packageId: string; held: number; parts: number }[];
  requested: { rolloutId: string; packageId: string; missing: number[] }[];
}

export async function partsPass(ctx: AgentHandlerContext, requestMissingAfter?: string): Promise<PartsPassResult> {
  const limits = partsLimits(ctx.config, requestMissingAfter);
  const store = new PartStore(ctx.db, ctx.config.stateDir);
  const result: PartsPassResult = { expired: [], requested: [] };
  const now = ctx.clock.now().getTime();
  for (const pkg of store.list()) {
    if (now - Date.parse(pkg.firstSeen) >= limits.deadlineMs) {
      const held = store.stored(pkg).length;
      store.remove(pkg);
      if (pkg.state !== 'open') continue;
      await tellExpired(ctx, pkg, held, limits);
      result.expired.push({ rolloutId: pkg.rolloutId, packageId: pkg.packageId, held, parts: pkg.parts });
    } else if (pkg.state === 'open' && dueForRequest(pkg, now, limits)) {
      const missing = store.missing(pkg);
      if (missing.length === 0) continue;
      await requestMissing(ctx, pkg, missing);
      store.noteRequest(pkg, ctx.clock.now());
      result.requested.push({ rolloutId: pkg.rolloutId, packageId: pkg.packageId, missing });
    }
  }
  return result;
}

function dueForRequest(pkg: PartPackage, now: number, limits: PartsLimits): boolean {
  if (pkg.requests >= limits.maxRequests) return false;
  const quiet = now - Date.parse(pkg.lastPartAt) >= limits.requestMissingAfterMs;
  const since = pkg.lastRequestAt === undefined || now - Date.parse(pkg.lastRequestAt) >= limits.requestMissingAfterMs;
  return quiet && since;
}

async function tellExpired(ctx: AgentHandlerContext, pkg: PartPackage, held: number, limits: PartsLimits): Promise<void> {
  const reason = `package ${pkg.packageId}: ${held} of ${pkg.parts} parts came within ${formatDuration(limits.deadlineMs)} (parts.deadline); its parts were dropped`;
  await reply(
    ctx,
    UPDATE_RESULT,
    pkg.firstPayloadId ?? pkg.lastPayloadId,
    refusedBody(ctx, pkg, reason, PARTS_EXPIRED),
    `update ${pkg.softwareVersion} parts expired on ${ctx.self.id}`,
  );
  ctx.logger.warn('update parts expired', { package: pkg.packageId, held, parts: pkg.parts });
}

async function requestMissing(ctx: AgentHandlerContext, pkg: PartPackage, missing: number[]): Promise<void> {
  const subject = `[rds] ${ctx.self.id} asks for ${missing.length} missing part(s) of package ${pkg.packageId}`;
  await queueMessage(
    ctx.db,
    ctx.self,
    {
      type: PARTS_REQUEST,
      toId: ctx.config.hostId,
      toAddress: ctx.config.hostAddress,
      body: { rolloutId: pkg.rolloutId, packageId: pkg.packageId, missing },
      subject,
      text: `${subject}: ${missing.join(', ')}\n`,
      inReplyTo: pkg.firstPayloadId ?? pkg.lastPayloadId,
    },
    { clock: ctx.clock, ttlMs: ctx.ttlMs },
  );
  ctx.logger.info('missing update parts requested', { package: pkg.packageId, missing: missing.length, request: pkg.requests + 1 });
}

/** poll-mail's lines for what the pass did. */
export function partsPassLines(r: PartsPassResult): string[] {
  return [
    ...r.requested.map(
      (q) =>
        `parts-request for package ${q.packageId}: ${q.missing.length} missing (${q.missing.slice(0, 20).join(', ')}${q.missing.length > 20 ? ', …' : ''})`,
    ),
    ...r.expired.map((e) => `parts of package ${e.packageId} expired (${e.held} of ${e.parts}): ${PARTS_EXPIRED}`),
  ];
}
