/**
 * parts-request on the host (docs/protocol.md#update-parts): a registered agent of a rollout
 * sent in parts names the parts that never reached it; the host re-sends exactly those, as
 * fresh part mails (new payload ids), at most `parts.maxResends` times per agent and
 * rollout. Beyond that the request is recorded, not answered (no mail loop). A request for a
 * rollout the agent is not in, another package, or a rollout not sent in parts is refused
 * (PACKAGE_MISMATCH); a part number beyond N is refused (PART_OUT_OF_RANGE).
 */
import type { Clock } from '../clock.js';
import { REFUSAL, SecurityError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Handler } from '../message/inbound.js';
import type { Sender } from '../message/outgoing.js';
import { type EnqueueInput, enqueue } from '../outbox/outbox.js';
import { recoverSessionKey } from '../package/wrap.js';
import { bodyHandler } from '../protocol/index.js';
import { PARTS_REQUEST, type PartsRequestBody } from '../protocol/parts-request.js';
import type { Db } from '../store/db.js';
import { loadPartsPlan, type PartsPlan, packageLayout, partItem, preparePart } from './push-parts.js';
import { type AgentRecord, findAgent } from './registry.js';

/** `parts.maxResends` when the config names none. */
export const DEFAULT_MAX_RESENDS = 3;

export interface PartsRequestContext {
  db: Db;
  clock: Clock;
  self: Sender;
  ttlMs: number;
  logger?: Logger;
  maxResends: number;
}

interface RolloutRow {
  id: string;
  package_id: string;
  target_version: string;
  file: string;
  state: string;
}

/** The rollout, its cut and the agent, or the refusal that names what does not fit. */
function checkRequest(db: Db, from: string, body: PartsRequestBody): { rollout: RolloutRow; plan: PartsPlan; agent: AgentRecord } {
  const agent = findAgent(db, from);
  if (!agent) throw new SecurityError(REFUSAL.UNKNOWN_SENDER, `agent ${from} is not registered`);
  const rollout = db.prepare('SELECT id, package_id, target_version, file, state FROM rollouts WHERE id = ?').get(body.rolloutId) as
    | RolloutRow
    | undefined;
  const member = db.prepare('SELECT 1 FROM rollout_agents WHERE rollout_id = ? AND agent_id = ?').get(body.rolloutId, agent.id);
  if (!rollout || !member) {
    throw new SecurityError(REFUSAL.PACKAGE_MISMATCH, `parts-request: ${agent.id} is in no rollout ${body.rolloutId}`);
  }
  if (rollout.package_id !== body.packageId) {
    throw new SecurityError(
      REFUSAL.PACKAGE_MISMATCH,
      `parts-request: rollout ${rollout.id} pushed package ${rollout.package_id}, not ${body.packageId}`,
    );
  }
  const plan = loadPartsPlan(db, rollout.id);
  if (!plan) throw new SecurityError(REFUSAL.PACKAGE_MISMATCH, `parts-request: rollout ${rollout.id} was not sent in parts`);
  const beyond = body.missing.find((n) => n > plan.parts);
  if (beyond !== undefined) {
    throw new SecurityError(
      REFUSAL.PART_OUT_OF_RANGE,
      `parts-request: part ${beyond} is beyond the ${plan.parts} parts of rollout ${rollout.id}`,
    );
  }
  return { rollout, plan, agent };
}

/** Count the request; whether it may be answered (under `maxResends`, rollout not aborted). */
function countRequest(ctx: PartsRequestContext, rollout: RolloutRow, agentId: string, missing: number[]): boolean {
  const now = ctx.clock.now().toISOString();
  return ctx.db.transaction(() => {
    ctx.db
      .prepare(`INSERT INTO parts_answers (rollout_id, agent_id) VALUES (?, ?) ON CONFLICT (rollout_id, agent_id) DO NOTHING`)
      .run(rollout.id, agentId);
    const row = ctx.db.prepare('SELECT answered FROM parts_answers WHERE rollout_id = ? AND agent_id = ?').get(rollout.id, agentId) as {
      answered: number;
    };
    const answer = row.answered < ctx.maxResends && rollout.state !== 'aborted';
    ctx.db
      .prepare(
        `UPDATE parts_answers SET requests = requests + 1, answered = answered + ?, refused = refused + ?,
           parts_sent = parts_sent + ?, last_missing = ?, last_at = ? WHERE rollout_id = ? AND agent_id = ?`,
      )
      .run(answer ? 1 : 0, answer ? 0 : 1, answer ? missing.length : 0, missing.join(','), now, rollout.id, agentId);
    return answer;
  })();
}

export const handlePartsRequest = (ctx: PartsRequestContext): Handler =>
  bodyHandler(PARTS_REQUEST, ctx.clock, async (body, { accepted }) => {
    const { rollout, plan, agent } = checkRequest(ctx.db, accepted.payload.from, body);
    const input = { self: ctx.self, file: rollout.file, ttlMs: ctx.ttlMs, clock: ctx.clock };
    const manifest = { packageId: rollout.package_id, softwareVersion: rollout.target_version };
    if (!countRequest(ctx, rollout, agent.id, body.missing)) {
      const why = rollout.state === 'aborted' ? 'rollout aborted' : `answered ${ctx.maxResends} times already (parts.maxResends)`;
      ctx.logger?.warn('parts-request not answered', { agent: agent.id, rollout: rollout.id, why });
      return `not answered: ${why}`;
    }
    const sessionKey = body.missing.includes(1) ? await recoverSessionKey(packageLayout(rollout.file).prefix, ctx.self.key) : undefined;
    const items: EnqueueInput[] = [];
    for (const n of body.missing)
      items.push(
        partItem(ctx.self.address, await preparePart(input, agent, rollout.id, manifest, plan, n, sessionKey), rollout.id, agent, false),
      );
    const now = ctx.clock.now();
    ctx.db.transaction(() => {
      for (const item of items) enqueue(ctx.db, item, now);
    })();
    return `re-sent part${body.missing.length === 1 ? '' : 's'} ${body.missing.join(',')}`;
  });

/** One agent's parts-requests in one rollout (`rds rollout status`, `rds agents show`). */
export interface PartsAnswers {
  rolloutId: string;
  agentId: string;
  requests: number;
  answered: number;
  /** over `parts.maxResends` (or the rollout aborted): recorded, not answered */
  refused: number;
  partsSent: number;
  lastMissing: string | null;
  lastAt: string | null;
}

interface AnswerRow {
  rollout_id: string;
  agent_id: string;
  requests: number;
  answered: number;
  refused: number;
  parts_sent: number;
  last_missing: string | null;
  last_at: string | null;
}

/** The parts-requests taken in, for a rollout or for an agent. */
export function partsAnswers(db: Db, by: { rolloutId?: string; agentId?: string }): PartsAnswers[] {
  const rows = db
    .prepare(
      `SELECT * FROM parts_answers WHERE (? IS NULL OR rollout_id = ?) AND (? IS NULL OR agent_id = ?) ORDER BY rollout_id, agent_id`,
    )
    .all(by.rolloutId ?? null, by.rolloutId ?? null, by.agentId ?? null, by.agentId ?? null) as AnswerRow[];
  return rows.map((r) => ({
    rolloutId: r.rollout_id,
    agentId: r.agent_id,
    requests: r.requests,
    answered: r.answered,
    refused: r.refused,
    partsSent: r.parts_sent,
    lastMissing: r.last_missing,
    lastAt: r.last_at,
  }));
}

/** What `rds rollout status` shows of a rollout sent in parts; undefined for one sent in single mails. */
export function rolloutParts(db: Db, rolloutId: string) {
  const plan = loadPartsPlan(db, rolloutId);
  if (!plan) return undefined;
  return { perAgent: plan.parts, partSize: plan.partSize, mailLimit: plan.mailLimit, requests: partsAnswers(db, { rolloutId }) };
}
