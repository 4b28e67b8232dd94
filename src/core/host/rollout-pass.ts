/**
 * One `rds rollout advance` pass over the rollouts (docs/rollouts.md), after the mail was
 * taken in (results already decided the agents' states, reports.ts): per running rollout,
 * decide (rollout-plan.ts) and apply the state changes in one transaction, then queue the
 * update mails that are due (a package in parts: each agent's N part mails, push-parts.ts; re-sends to silent agents with a version request first, then
 * the open waves' pending agents), at most what `--rate` allows. Each mail is queued in a
 * transaction that checks again that it is still due, so a pass killed anywhere and run
 * again never queues a second mail for the same attempt, and never skips an agent.
 */
import type { Clock } from '../clock.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Sender } from '../message/outgoing.js';
import { type EnqueueInput, enqueue, holdRolloutMail, rolloutMailInWindow } from '../outbox/outbox.js';
import { recoverSessionKey } from '../package/wrap.js';
import { VERSION_REQUEST } from '../protocol/version-request.js';
import type { Db } from '../store/db.js';
import { prepareUpdateMail, type UpdateRecipe, updateItem } from './push-all.js';
import { openSealer } from './push-crypto.js';
import { loadPartsPlan, packageLayout, partItem, preparePart } from './push-parts.js';
import { type AgentRecord, findAgent } from './registry.js';
import { queueRequests } from './requests.js';
import { decidePass, type Halt, parseRate, type RolloutState } from './rollout-plan.js';
import {
  applyDecision,
  budgets,
  dueAgents,
  passAgents,
  type RolloutRecord,
  rolloutRecord,
  rolloutsIn,
  skipAgent,
  stillDue,
} from './rollout-waves-store.js';

export interface PassContext {
  db: Db;
  self: Sender;
  clock: Clock;
  ttlMs: number;
  logger: Logger;
}

/** What one pass did to one rollout. */
export interface RolloutMove {
  rollout: string;
  state: RolloutState;
  wave: number;
  waves: number;
  /** the wave opened in this pass */
  opened?: number;
  /** agents sent a fresh update mail (re-sends not counted) */
  queued: string[];
  /** silent agents sent a version request and their update again */
  resent: string[];
  timedOut: string[];
  halt?: Halt;
  /** why a halted rollout stands (from an earlier pass too) */
  haltReason?: string;
  /** its mails could not be made (the package file gone or unreadable): nothing queued, the rest goes on */
  error?: string;
}

/** Every running rollout (or ONLY, whatever its state), one after the other. */
export async function advanceRollouts(ctx: PassContext, only?: string): Promise<RolloutMove[]> {
  const rollouts = only ? [rolloutRecord(ctx.db, only) as RolloutRecord] : rolloutsIn(ctx.db, ['running', 'halted']);
  const moves: RolloutMove[] = [];
  for (const r of rollouts) moves.push(await advanceOne(ctx, r));
  return moves;
}

async function advanceOne(ctx: PassContext, r: RolloutRecord): Promise<RolloutMove> {
  const move: RolloutMove = { rollout: r.id, state: r.state, wave: r.currentWave, waves: r.waves, queued: [], resent: [], timedOut: [] };
  if (r.state !== 'running') return withState(ctx.db, move);
  const decide = ctx.db.transaction(() => {
    const decision = decidePass({
      ...budgets(r),
      currentWave: r.currentWave,
      waves: r.waves,
      retries: r.retries,
      now: ctx.clock.now().getTime(),
      agents: passAgents(ctx.db, r.id),
    });
    applyDecision(ctx.db, r.id, decision);
    if (decision.halt) holdRolloutMail(ctx.db, r.id, true, ctx.clock.now()); // nothing more goes out
    return decision;
  });
  const decision = decide.immediate();
  move.timedOut = decision.timeOut;
  if (decision.halt) move.halt = decision.halt;
  if (decision.openWave !== undefined) move.opened = decision.openWave;
  try {
    if (!decision.halt) await queueDue(ctx, r, decision.resend, move);
  } catch (error) {
    if (!(error instanceof UsageError) || error.code !== 'ROLLOUT_PACKAGE') throw error;
    ctx.logger.warn('rollout not moved: its package cannot be used', { rollout: r.id, error: error.message });
    move.error = error.message;
  }
  return withState(ctx.db, move);
}

function withState(db: Db, move: RolloutMove): RolloutMove {
  const now = rolloutRecord(db, move.rollout) as RolloutRecord;
  return { ...move, state: now.state, wave: now.currentWave, ...(now.haltReason ? { haltReason: now.haltReason } : {}) };
}

/** How many update mails of this rollout may be queued now (`--rate`). */
function allowance(ctx: PassContext, r: RolloutRecord): number {
  if (!r.rate) return Number.POSITIVE_INFINITY;
  const rate = parseRate(r.rate);
  const since = new Date(ctx.clock.now().getTime() - rate.windowMs);
  return Math.max(0, rate.count - rolloutMailInWindow(ctx.db, r.id, since));
}

/** Re-sends (each after a version request), then the open waves' pending agents, within the rate. */
async function queueDue(ctx: PassContext, r: RolloutRecord, resend: string[], move: RolloutMove): Promise<void> {
  const room = allowance(ctx, r);
  const resends = resend.slice(0, room);
  const fresh = dueAgents(ctx.db, r.id, Math.min(room - resends.length, 1_000_000));
  if (resends.length === 0 && fresh.length === 0) return;
  const prepared = await prepareMails(ctx, r, [...resends, ...fresh]);
  const attempts = new Map(passAgents(ctx.db, r.id).map((a) => [a.agentId, a.attempts]));
  for (const id of resends) {
    const agent = prepared.get(id)?.agent;
    if (agent) await queueRequests(ctx.db, ctx.self, [agent], VERSION_REQUEST, { clock: ctx.clock, ttlMs: ctx.ttlMs, rolloutId: r.id });
  }
  const now = ctx.clock.now();
  const isResend = new Set(resends);
  const queue = ctx.db.transaction(() => {
    let left = allowance(ctx, r);
    const chosen: EnqueueInput[][] = [];
    for (const id of [...resends, ...fresh]) {
      const mail = prepared.get(id);
      const again = isResend.has(id);
      if (!mail || left <= 0) continue;
      if (!stillDue(ctx.db, r.id, id, again ? { attempts: attempts.get(id) ?? 0, now: now.toISOString() } : undefined)) continue;
      chosen.push(mail.items);
      (again ? move.resent : move.queued).push(id);
      left--;
    }
    // part-major (a package in parts): every agent's part 1, then every part 2… (outbox/part-mail.ts)
    const layers = Math.max(0, ...chosen.map((items) => items.length));
    for (let n = 0; n < layers; n++) for (const items of chosen) if (items[n]) enqueue(ctx.db, items[n] as EnqueueInput, now);
  });
  queue.immediate();
}

/** The update mails of these agents as recipes: the package read and its session key recovered once. */
/** Agents sealed per round on the push-all worker pool (push-crypto.ts). */
const SEAL_BATCH = 64;

async function prepareMails(ctx: PassContext, r: RolloutRecord, ids: string[]) {
  let sessionKey: Awaited<ReturnType<typeof recoverSessionKey>>;
  try {
    sessionKey = await recoverSessionKey(packageLayout(r.file).prefix, ctx.self.key);
  } catch (error) {
    throw new UsageError(
      'ROLLOUT_PACKAGE',
      `rollout ${r.id}: its package ${r.file} cannot be used (${error instanceof Error ? error.message : String(error)}); rds rollout abort ${r.id}`,
      { cause: error },
    );
  }
  const out = new Map<string, { agent: AgentRecord; items: EnqueueInput[] }>();
  const manifest = { packageId: r.packageId, softwareVersion: r.targetVersion };
  const input = { self: ctx.self, ttlMs: ctx.ttlMs, clock: ctx.clock, file: r.file };
  const parts = loadPartsPlan(ctx.db, r.id);
  const agents: AgentRecord[] = [];
  for (const id of ids) {
    const agent = findAgent(ctx.db, id);
    if (agent) agents.push(agent);
    else {
      ctx.logger.warn('rollout agent no longer registered: skipped', { rollout: r.id, agent: id });
      skipAgent(ctx.db, r.id, id);
    }
  }
  if (parts) {
    for (const agent of agents) {
      const items: EnqueueInput[] = [];
      for (let n = 1; n <= parts.parts; n++) {
        const recipe = await preparePart(input, agent, r.id, manifest, parts, n, sessionKey);
        items.push(partItem(ctx.self.address, recipe, r.id, agent, true));
      }
      out.set(agent.id, { agent, items });
    }
    return out;
  }
  // a wave of many agents: the OpenPGP work in worker threads (push-crypto.ts), a batch at a time
  const sealer = await openSealer(agents.length, sessionKey, ctx.self.key);
  try {
    for (let i = 0; i < agents.length; i += SEAL_BATCH) {
      const batch = agents.slice(i, i + SEAL_BATCH);
      const recipes = await Promise.all(batch.map((agent) => prepareUpdateMail(input, agent, r.id, manifest, sessionKey, sealer)));
      for (const [k, agent] of batch.entries()) {
        out.set(agent.id, { agent, items: [updateItem(ctx.self.address, recipes[k] as UpdateRecipe, r.id, agent)] });
      }
    }
  } finally {
    await sealer.close();
  }
  return out;
}
