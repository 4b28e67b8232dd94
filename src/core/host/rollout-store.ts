/**
 * The rollout tables (`rollouts`, `rollout_agents`): every read and write of them is here.
 * An agent's send state has one truth, its update mail in the outbox: sending it or ending
 * it records `sent` / `send-failed` here in the same statement (the triggers of migration
 * 009), whichever command flushes it. What this module writes itself: the rollout, its
 * agents (queued), a send failure that leaves the mail queued, and the agent's result.
 */
import { UsageError } from '../errors.js';
import type { Db } from '../store/db.js';
import type { AgentState } from './rollout-plan.js';

export interface Rollout {
  id: string;
  packageId: string;
  targetVersion: string;
  file: string;
  createdAt: string;
}

/** 'queued' | 'sent' | 'send-failed' */
export type SendStatus = 'queued' | 'sent' | 'send-failed';

interface RolloutRow {
  id: string;
  package_id: string;
  target_version: string;
  file: string;
  created_at: string;
}

const toRollout = (r: RolloutRow): Rollout => ({
  id: r.id,
  packageId: r.package_id,
  targetVersion: r.target_version,
  file: r.file,
  createdAt: r.created_at,
});

/** A new rollout; a retry (same id) keeps the first one. */
export function createRollout(db: Db, rollout: Rollout): void {
  db.prepare('INSERT OR IGNORE INTO rollouts (id, package_id, target_version, file, created_at) VALUES (?, ?, ?, ?, ?)').run(
    rollout.id,
    rollout.packageId,
    rollout.targetVersion,
    rollout.file,
    rollout.createdAt,
  );
}

/** AGENTS as queued in the rollout (again, for a retry: the last error goes). */
export function addAgents(db: Db, rolloutId: string, agentIds: readonly string[]): void {
  const upsert = db.prepare(
    `INSERT INTO rollout_agents (rollout_id, agent_id, status) VALUES (?, ?, 'queued')
     ON CONFLICT(rollout_id, agent_id) DO UPDATE SET status = 'queued', error = NULL`,
  );
  db.transaction(() => {
    for (const id of agentIds) upsert.run(rolloutId, id);
  })();
}

/** A send that failed and left the mail queued: shown as send-failed until a flush sends it. */
export function markSendFailed(db: Db, rolloutId: string, agentId: string, error: string, messageId: string): void {
  db.prepare(
    "UPDATE rollout_agents SET status = 'send-failed', error = ?, message_id = ? WHERE rollout_id = ? AND agent_id = ? AND status != 'sent'",
  ).run(error, messageId, rolloutId, agentId);
}

export interface UpdateResult {
  rolloutId: string;
  agentId: string;
  outcome: string;
  version: string;
  detail: string | null;
  at: string;
  log: string | null;
  logNote: string | null;
}

/** What the agent reported for its install (update-result). */
export function recordResult(db: Db, r: UpdateResult): void {
  db.prepare(
    `UPDATE rollout_agents SET result = ?, result_version = ?, result_detail = ?, result_at = ?, result_log = ?, result_log_note = ?
     WHERE rollout_id = ? AND agent_id = ?`,
  ).run(r.outcome, r.version, r.detail, r.at, r.log, r.logNote, r.rolloutId, r.agentId);
}

/** The named rollout (UNKNOWN_ROLLOUT when there is none), or without an id the latest one. */
export function findRollout(db: Db, id?: string): Rollout | undefined {
  if (id) {
    const row = db.prepare('SELECT id, package_id, target_version, file, created_at FROM rollouts WHERE id = ?').get(id) as
      | RolloutRow
      | undefined;
    if (!row) throw new UsageError('UNKNOWN_ROLLOUT', `no rollout '${id}'`);
    return toRollout(row);
  }
  const row = db
    .prepare('SELECT id, package_id, target_version, file, created_at FROM rollouts ORDER BY created_at DESC, rowid DESC LIMIT 1')
    .get() as RolloutRow | undefined;
  return row ? toRollout(row) : undefined;
}

export interface RolloutAgent {
  agentId: string;
  status: SendStatus;
  /** the rollout state (docs/rollouts.md), its wave and how many update mails were queued */
  state: AgentState;
  wave: number;
  attempts: number;
  error: string | null;
  result: string | null;
  detail: string | null;
  logTail: string | null;
}

/** The agents of a rollout with their send state and result. */
export function rolloutAgents(db: Db, rolloutId: string): RolloutAgent[] {
  const rows = db
    .prepare(
      'SELECT agent_id, status, state, wave, attempts, error, result, result_detail, result_log FROM rollout_agents WHERE rollout_id = ? ORDER BY position, rowid',
    )
    .all(rolloutId) as {
    agent_id: string;
    status: SendStatus;
    state: AgentState;
    wave: number;
    attempts: number;
    error: string | null;
    result: string | null;
    result_detail: string | null;
    result_log: string | null;
  }[];
  return rows.map((r) => ({
    agentId: r.agent_id,
    status: r.status,
    state: r.state,
    wave: r.wave,
    attempts: r.attempts,
    error: r.error,
    result: r.result,
    detail: r.result_detail,
    logTail: r.result_log,
  }));
}

/** One agent's part in every rollout, newest first (`rds agents show`). */
export interface AgentRollout {
  rolloutId: string;
  targetVersion: string;
  createdAt: string;
  status: string;
  sentAt: string | null;
  error: string | null;
  result: string | null;
  resultVersion: string | null;
  resultAt: string | null;
  detail: string | null;
  logTail: string | null;
  logTailNote: string | null;
}

export function agentRollouts(db: Db, agentId: string): AgentRollout[] {
  const rows = db
    .prepare(
      `SELECT ra.rollout_id, r.target_version, r.created_at, ra.status, ra.sent_at, ra.error, ra.result, ra.result_version,
              ra.result_at, ra.result_detail, ra.result_log, ra.result_log_note
       FROM rollout_agents ra JOIN rollouts r ON r.id = ra.rollout_id
       WHERE ra.agent_id = ? ORDER BY r.created_at DESC, r.rowid DESC`,
    )
    .all(agentId) as Record<string, string | null>[];
  return rows.map((r) => ({
    rolloutId: r.rollout_id as string,
    targetVersion: r.target_version as string,
    createdAt: r.created_at as string,
    status: r.status as string,
    sentAt: r.sent_at ?? null,
    error: r.error ?? null,
    result: r.result ?? null,
    resultVersion: r.result_version ?? null,
    resultAt: r.result_at ?? null,
    detail: r.result_detail ?? null,
    logTail: r.result_log ?? null,
    logTailNote: r.result_log_note ?? null,
  }));
}

/**
 * One line per rollout for `rds rollouts`, newest first. The counts come from
 * rollout_agents: `sent` = the mail went out (status sent); `installed` = the agent
 * reported the install done (or the package already installed); `failed` = the send
 * failed, the agent reported another outcome (rolled-back, refused), or its rollout state is
 * failed or timed-out; `pending` = the rest (not sent yet, sent and no result yet, deferred
 * for its install window, skipped). So agents = installed + failed + pending.
 */
export interface RolloutSummary {
  id: string;
  packageId: string;
  targetVersion: string;
  createdAt: string;
  agents: number;
  sent: number;
  installed: number;
  failed: number;
  pending: number;
  /** running | paused | halted | aborted | done (docs/rollouts.md) */
  state: string;
}

interface SummaryRow {
  id: string;
  package_id: string;
  target_version: string;
  created_at: string;
  agents: number;
  sent: number;
  installed: number;
  failed: number;
  state: string;
}

/**
 * An agent counted failed in `rds rollouts`: its rollout state is final and bad (failed with
 * any reason, timed-out), its send failed, or it reported an outcome other than an install
 * (a `deferred` agent is still pending; `already-installed` counts as installed).
 */
const FAILED = `a.state IN ('failed', 'timed-out') OR a.status = 'send-failed'
  OR (a.result IS NOT NULL AND a.result NOT IN ('installed', 'already-installed', 'deferred'))`;

export function listRollouts(db: Db): RolloutSummary[] {
  const rows = db
    .prepare(
      `SELECT r.id, r.package_id, r.target_version, r.created_at, r.state,
              COUNT(a.agent_id) AS agents,
              COALESCE(SUM(CASE WHEN a.status = 'sent' THEN 1 ELSE 0 END), 0) AS sent,
              COALESCE(SUM(CASE WHEN NOT (${FAILED}) AND (a.state = 'installed' OR a.result IN ('installed', 'already-installed')) THEN 1 ELSE 0 END), 0) AS installed,
              COALESCE(SUM(CASE WHEN ${FAILED} THEN 1 ELSE 0 END), 0) AS failed
       FROM rollouts r LEFT JOIN rollout_agents a ON a.rollout_id = r.id
       GROUP BY r.id
       ORDER BY r.created_at DESC, r.rowid DESC`,
    )
    .all() as SummaryRow[];
  return rows.map((r) => ({
    id: r.id,
    packageId: r.package_id,
    targetVersion: r.target_version,
    createdAt: r.created_at,
    agents: r.agents,
    sent: r.sent,
    installed: r.installed,
    failed: r.failed,
    pending: r.agents - r.installed - r.failed,
    state: r.state,
  }));
}

/**
 * export-update: the rollout an exported file belongs to, decided before the file is made
 * (its signed payload names it): ROLLOUT when given (UNKNOWN_ROLLOUT, or
 * ROLLOUT_OTHER_PACKAGE when it rolls out another package), else the latest rollout of
 * this package that includes the agent, else none (`undefined`: recordExport makes one).
 */
export function exportRollout(db: Db, packageId: string, agentId: string, rolloutId?: string): Rollout | undefined {
  if (rolloutId) {
    const rollout = findRollout(db, rolloutId) as Rollout;
    if (rollout.packageId !== packageId) {
      throw new UsageError(
        'ROLLOUT_OTHER_PACKAGE',
        `rollout ${rolloutId} rolls out package ${rollout.packageId} (${rollout.targetVersion}), not this package ${packageId}`,
      );
    }
    return rollout;
  }
  const row = db
    .prepare(
      `SELECT r.id, r.package_id, r.target_version, r.file, r.created_at FROM rollouts r JOIN rollout_agents a ON a.rollout_id = r.id
       WHERE r.package_id = ? AND a.agent_id = ? ORDER BY r.created_at DESC, r.rowid DESC LIMIT 1`,
    )
    .get(packageId, agentId) as RolloutRow | undefined;
  return row ? toRollout(row) : undefined;
}

/**
 * export-update wrote a file for AGENT: the rollout (created when new) records the agent as
 * sent, at `sentAt`, with the exported mail's Message-ID; an earlier error is cleared and an
 * earlier result kept until the agent reports again (as for a mail sent by push-all).
 */
export function recordExport(
  db: Db,
  rollout: Rollout,
  agentId: string,
  sent: { sentAt: string; messageId: string; deadline: string },
): void {
  db.transaction(() => {
    createRollout(db, rollout);
    // the file is the agent's update mail: one more attempt, sent, and a deadline (the file's
    // validity); a new try after a failure or a timeout, while installed and skipped stay, so
    // no rollout advance mails the agent the update meanwhile. An agent new to the rollout
    // joins its current wave, after the others.
    db.prepare(
      `INSERT INTO rollout_agents (rollout_id, agent_id, status, sent_at, message_id, state, attempts, deadline, wave, position)
       VALUES (@rollout, @agent, 'sent', @sentAt, @messageId, 'sent', 1, @deadline,
         (SELECT current_wave FROM rollouts WHERE id = @rollout),
         (SELECT COALESCE(MAX(position), -1) + 1 FROM rollout_agents WHERE rollout_id = @rollout))
       ON CONFLICT(rollout_id, agent_id) DO UPDATE SET status = 'sent', sent_at = excluded.sent_at, message_id = excluded.message_id,
         error = NULL, attempts = rollout_agents.attempts + 1,
         deadline = CASE WHEN rollout_agents.state IN ('installed', 'skipped') THEN rollout_agents.deadline ELSE excluded.deadline END,
         state = CASE WHEN rollout_agents.state IN ('installed', 'skipped') THEN rollout_agents.state ELSE 'sent' END,
         reason = CASE WHEN rollout_agents.state IN ('installed', 'skipped') THEN rollout_agents.reason END`,
    ).run({ rollout: rollout.id, agent: agentId, ...sent });
  })();
}
