import type { Clock } from '../clock.js';
import { queueMessage, type Sender } from '../message/outgoing.js';
import type { COUNTER_REQUEST } from '../protocol/counter-request.js';
import type { VERSION_REQUEST } from '../protocol/version-request.js';
import type { Db } from '../store/db.js';
import { statement } from '../store/statement.js';
import type { AgentRecord } from './registry.js';

/** The requests the host sends and remembers until answered. */
export type RequestType = typeof VERSION_REQUEST | typeof COUNTER_REQUEST;

/** Queue one request (version-request, counter-request) per agent and remember it. */
export async function queueRequests(
  db: Db,
  self: Sender,
  agents: AgentRecord[],
  type: RequestType,
  opts: { clock: Clock; ttlMs: number; rolloutId?: string | null },
): Promise<{ agentId: string; requestId: string }[]> {
  const out: { agentId: string; requestId: string }[] = [];
  for (const agent of agents) {
    const payload = await queueMessage(
      db,
      self,
      {
        type,
        toId: agent.id,
        toAddress: agent.address,
        body: {},
        subject: `[rds] ${type} for ${agent.id}`,
        text: `${type} for ${agent.id}; the agent answers by itself.`,
        ref: agent.id,
      },
      opts,
    );
    statement(db, 'INSERT INTO requests (id, type, agent_id, rollout_id, created_at) VALUES (?, ?, ?, ?, ?)').run(
      payload.id,
      type,
      agent.id,
      opts.rolloutId ?? null,
      opts.clock.now().toISOString(),
    );
    out.push({ agentId: agent.id, requestId: payload.id });
  }
  return out;
}

/**
 * Record that a request was answered (the reply's inReplyTo names it). Only the agent the
 * request was sent to can settle it: another registered agent naming its id changes nothing.
 */
export function markAnswered(db: Db, requestId: string | undefined, fromAgentId: string, answer: string, at: string): void {
  if (!requestId) return;
  statement(
    db,
    'UPDATE requests SET answered_at = COALESCE(answered_at, ?), answer = COALESCE(answer, ?) WHERE id = ? AND agent_id = ?',
  ).run(at, answer, requestId, fromAgentId);
}

/** Which of these requests have an answer. */
export function answeredRequests(db: Db, requestIds: string[]): Set<string> {
  const stmt = statement(db, 'SELECT 1 FROM requests WHERE id = ? AND answered_at IS NOT NULL');
  return new Set(requestIds.filter((id) => stmt.get(id) !== undefined));
}
