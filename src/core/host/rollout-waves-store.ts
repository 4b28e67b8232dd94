/**
 * The rollout store, part two: waves, states, budgets (docs/rollouts.md). With
 * rollout-store.ts the only code that reads or writes `rollouts` / `rollout_agents`
 * (docs/locks.md); the outbox triggers of migrations 009/010 record what sending does.
 * Set-based: one query loads a rollout's agents for a pass, updates touch only the agents
 * that change, by primary key.
 */
import { UsageError } from '../errors.js';
import type { Db } from '../store/db.js';
import { statement } from '../store/statement.js';
import {
  type AgentState,
  DEFAULT_BUDGET,
  DEFAULT_RETRIES,
  type Halt,
  type PassAgent,
  type PassDecision,
  type PlannedAgent,
  type RolloutState,
  resolveBudget,
  stateOfResult,
} from './rollout-plan.js';

export interface RolloutSettings {
  waves: number;
  maxFailures: string;
  maxTimeouts: string;
  timeoutMs: number;
  retries: number;
  /** as given: `30/m`, `500/h`; null: no limit */
  rate: string | null;
}

/** What a rollout gets without flags: one wave, no failure or timeout allowed, 2h, one re-send, no rate. */
export const DEFAULT_SETTINGS: RolloutSettings = {
  waves: 1,
  maxFailures: DEFAULT_BUDGET,
  maxTimeouts: DEFAULT_BUDGET,
  timeoutMs: 7_200_000,
  retries: DEFAULT_RETRIES,
  rate: null,
};

export interface RolloutRecord extends RolloutSettings {
  id: string;
  packageId: string;
  targetVersion: string;
  file: string;
  createdAt: string;
  state: RolloutState;
  currentWave: number;
  haltReason: string | null;
  failureBase: number;
  timeoutBase: number;
  /** agents in the rollout */
  total: number;
}

interface RecordRow {
  id: string;
  package_id: string;
  target_version: string;
  file: string;
  created_at: string;
  state: RolloutState;
  waves: number;
  current_wave: number;
  max_failures: string;
  max_timeouts: string;
  timeout_ms: number;
  retries: number;
  rate: string | null;
  halt_reason: string | null;
  failure_base: number;
  timeout_base: number;
  total: number;
}

const RECORD = `SELECT r.id, r.package_id, r.target_version, r.file, r.created_at, r.state, r.waves, r.current_wave, r.max_failures,
  r.max_timeouts, r.timeout_ms, r.retries, r.rate, r.halt_reason, r.failure_base, r.timeout_base,
  (SELECT count(*) FROM rollout_agents a WHERE a.rollout_id = r.id) AS total FROM rollouts r`;

const toRecord = (r: RecordRow): RolloutRecord => ({
  id: r.id,
  packageId: r.package_id,
  targetVersion: r.target_version,
  file: r.file,
  createdAt: r.created_at,
  state: r.state,
  waves: r.waves,
  currentWave: r.current_wave,
  maxFailures: r.max_failures,
  maxTimeouts: r.max_timeouts,
  timeoutMs: r.timeout_ms,
  retries: r.retries,
  rate: r.rate,
  haltReason: r.halt_reason,
  failureBase: r.failure_base,
  timeoutBase: r.timeout_base,
  total: r.total,
});

/** The named rollout (UNKNOWN_ROLLOUT when there is none), or without an id the latest one. */
export function rolloutRecord(db: Db, id?: string): RolloutRecord | undefined {
  const row = (
    id ? db.prepare(`${RECORD} WHERE r.id = ?`).get(id) : db.prepare(`${RECORD} ORDER BY r.created_at DESC, r.rowid DESC LIMIT 1`).get()
  ) as RecordRow | undefined;
  if (id && !row) throw new UsageError('UNKNOWN_ROLLOUT', `no rollout '${id}'`);
  return row ? toRecord(row) : undefined;
}

/** Rollouts in these states, oldest first. */
export function rolloutsIn(db: Db, states: readonly RolloutState[]): RolloutRecord[] {
  const rows = db
    .prepare(`${RECORD} WHERE r.state IN (${states.map(() => '?').join(',')}) ORDER BY r.created_at, r.rowid`)
    .all(...states) as RecordRow[];
  return rows.map(toRecord);
}

/** A fresh rollout's plan: its settings, and every agent `pending` in its wave and position. */
export function recordPlan(db: Db, rolloutId: string, settings: RolloutSettings, plan: readonly PlannedAgent[]): void {
  db.prepare('UPDATE rollouts SET waves = ?, max_failures = ?, max_timeouts = ?, timeout_ms = ?, retries = ?, rate = ? WHERE id = ?').run(
    settings.waves,
    settings.maxFailures,
    settings.maxTimeouts,
    settings.timeoutMs,
    settings.retries,
    settings.rate,
    rolloutId,
  );
  const add = db.prepare(
    `INSERT INTO rollout_agents (rollout_id, agent_id, status, wave, position) VALUES (?, ?, 'queued', ?, ?)
     ON CONFLICT(rollout_id, agent_id) DO NOTHING`,
  );
  for (const a of plan) add.run(rolloutId, a.agentId, a.wave, a.position);
}

interface PassRow {
  agent_id: string;
  wave: number;
  state: AgentState;
  attempts: number;
  deadline: string | null;
}

/** What a pass decides on: every agent of the rollout, one query. */
export function passAgents(db: Db, rolloutId: string): PassAgent[] {
  const rows = db
    .prepare('SELECT agent_id, wave, state, attempts, deadline FROM rollout_agents WHERE rollout_id = ? ORDER BY position, rowid')
    .all(rolloutId) as PassRow[];
  return rows.map((r) => ({
    agentId: r.agent_id,
    wave: r.wave,
    state: r.state,
    attempts: r.attempts,
    deadline: r.deadline === null ? null : Date.parse(r.deadline),
  }));
}

export function haltText(halt: Halt): string {
  const what = halt.budget === 'max-failures' ? 'failed' : 'timed out';
  return `${halt.budget} ${halt.limit} passed: ${halt.count} ${what} (${halt.agents.join(', ')})`;
}

/** Apply a pass decision's state changes (inside the caller's transaction). */
export function applyDecision(db: Db, rolloutId: string, decision: PassDecision): void {
  const timeOut = db.prepare(
    "UPDATE rollout_agents SET state = 'timed-out', deadline = NULL WHERE rollout_id = ? AND agent_id = ? AND state IN ('sent', 'deferred')",
  );
  for (const id of decision.timeOut) timeOut.run(rolloutId, id);
  if (decision.halt) {
    db.prepare("UPDATE rollouts SET state = 'halted', halt_reason = ? WHERE id = ? AND state = 'running'").run(
      haltText(decision.halt),
      rolloutId,
    );
  } else if (decision.openWave !== undefined) {
    db.prepare("UPDATE rollouts SET current_wave = ? WHERE id = ? AND state = 'running' AND current_wave = ?").run(
      decision.openWave,
      rolloutId,
      decision.openWave - 1,
    );
  } else if (decision.done) {
    db.prepare("UPDATE rollouts SET state = 'done' WHERE id = ? AND state = 'running'").run(rolloutId);
  }
}

/** The budgets of a rollout in agents, and the baselines a resume accepted. */
export function budgets(r: RolloutRecord) {
  return {
    maxFailures: resolveBudget(r.maxFailures, r.total),
    maxTimeouts: resolveBudget(r.maxTimeouts, r.total),
    failureBase: r.failureBase,
    timeoutBase: r.timeoutBase,
  };
}

/**
 * Agents of the open waves that are `pending` with no update mail queued or held: the next
 * to queue, in plan order, at most `limit`.
 */
export function dueAgents(db: Db, rolloutId: string, limit: number): string[] {
  if (limit <= 0) return [];
  const rows = db
    .prepare(
      `SELECT a.agent_id FROM rollout_agents a JOIN rollouts r ON r.id = a.rollout_id
       WHERE a.rollout_id = ? AND r.state = 'running' AND a.state = 'pending' AND a.wave <= r.current_wave
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.rollout_id = a.rollout_id AND o.agent_id = a.agent_id
                         AND o.sent_at IS NULL AND o.state IS NULL)
       ORDER BY a.position LIMIT ?`,
    )
    .all(rolloutId, limit) as { agent_id: string }[];
  return rows.map((r) => r.agent_id);
}

/**
 * Is this agent still to be sent a mail now (checked again inside the queueing transaction,
 * so a concurrent pass or a crash-and-rerun never queues a second one)? `pending` with no
 * mail queued; or, for a re-send, still silent past its deadline after `attempts` sends.
 */
export function stillDue(db: Db, rolloutId: string, agentId: string, resend: { attempts: number; now: string } | undefined): boolean {
  const row = db
    .prepare(
      `SELECT a.state, a.attempts, a.deadline, r.state AS rollout_state, a.wave <= r.current_wave AS open,
         EXISTS (SELECT 1 FROM outbox o WHERE o.rollout_id = a.rollout_id AND o.agent_id = a.agent_id
                 AND o.sent_at IS NULL AND o.state IS NULL) AS queued
       FROM rollout_agents a JOIN rollouts r ON r.id = a.rollout_id WHERE a.rollout_id = ? AND a.agent_id = ?`,
    )
    .get(rolloutId, agentId) as
    | { state: AgentState; attempts: number; deadline: string | null; rollout_state: RolloutState; open: number; queued: number }
    | undefined;
  if (row?.rollout_state !== 'running' || row.queued || !row.open) return false;
  if (!resend) return row.state === 'pending';
  return (
    (row.state === 'sent' || row.state === 'deferred') &&
    row.attempts === resend.attempts &&
    row.deadline !== null &&
    Date.parse(row.deadline) <= Date.parse(resend.now)
  );
}

/** An agent removed from the registry before its mail was queued: skipped, not waited for. */
export function skipAgent(db: Db, rolloutId: string, agentId: string): void {
  db.prepare("UPDATE rollout_agents SET state = 'skipped' WHERE rollout_id = ? AND agent_id = ? AND state = 'pending'").run(
    rolloutId,
    agentId,
  );
}

export interface ResultState {
  rolloutId: string;
  agentId: string;
  outcome: string;
  reasonCode?: string | undefined;
  version: string;
  at: string;
  deferredUntil?: string | undefined;
}

/**
 * An update-result decides the agent's state: installed, failed (with its reason) or
 * deferred (its deadline: the install window's start plus the rollout's timeout). A
 * deferral never undoes a final result; a skipped agent stays skipped.
 */
export function recordResultState(db: Db, r: ResultState): void {
  const target = statement(db, 'SELECT target_version FROM rollouts WHERE id = ?').get(r.rolloutId) as
    | { target_version: string }
    | undefined;
  if (!target) return;
  const { state, reason } = stateOfResult(r.outcome, r.reasonCode, r.version, target.target_version);
  if (state === 'deferred') {
    statement(
      db,
      `UPDATE rollout_agents SET state = 'deferred', reason = NULL, reported_at = ?,
         deadline = strftime('%Y-%m-%dT%H:%M:%fZ', julianday(?) + (SELECT timeout_ms FROM rollouts WHERE id = ?) / 86400000.0)
       WHERE rollout_id = ? AND agent_id = ? AND state IN ('pending', 'sent', 'deferred', 'timed-out')`,
    ).run(r.at, r.deferredUntil ?? r.at, r.rolloutId, r.rolloutId, r.agentId);
    return;
  }
  statement(
    db,
    "UPDATE rollout_agents SET state = ?, reason = ?, reported_at = ?, deadline = NULL WHERE rollout_id = ? AND agent_id = ? AND state != 'skipped'",
  ).run(state, reason, r.at, r.rolloutId, r.agentId);
}

// ---- the operator's moves: pause, resume, abort --------------------------------------------

const MOVES = {
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused', 'halted'], to: 'running' },
  abort: { from: ['running', 'paused', 'halted'], to: 'aborted' },
} as const satisfies Record<string, { from: readonly RolloutState[]; to: RolloutState }>;
export type Move = keyof typeof MOVES;

/**
 * Move a rollout (inside the caller's transaction): an illegal move is a usage error.
 * Resume accepts what was counted so far: the budgets count from the failures and timeouts
 * there are now. Abort: every agent not sent yet is skipped.
 */
export function moveRollout(db: Db, rolloutId: string, move: Move): RolloutRecord {
  const r = rolloutRecord(db, rolloutId) as RolloutRecord;
  const { from, to } = MOVES[move];
  if (!(from as readonly RolloutState[]).includes(r.state)) {
    throw new UsageError('ROLLOUT_STATE', `rollout ${rolloutId} is ${r.state}: ${move} needs a rollout that is ${from.join(' or ')}`);
  }
  if (move === 'resume') {
    db.prepare(
      `UPDATE rollouts SET state = 'running', halt_reason = NULL,
         failure_base = (SELECT count(*) FROM rollout_agents WHERE rollout_id = ? AND state = 'failed'),
         timeout_base = (SELECT count(*) FROM rollout_agents WHERE rollout_id = ? AND state = 'timed-out') WHERE id = ?`,
    ).run(rolloutId, rolloutId, rolloutId);
  } else {
    db.prepare('UPDATE rollouts SET state = ? WHERE id = ?').run(to, rolloutId);
  }
  if (move === 'abort') db.prepare("UPDATE rollout_agents SET state = 'skipped' WHERE rollout_id = ? AND state = 'pending'").run(rolloutId);
  return rolloutRecord(db, rolloutId) as RolloutRecord;
}

// ---- views -------------------------------------------------------------------------------

export interface RolloutAgentState {
  agentId: string;
  address: string | null;
  version: string | null;
  checkedAt: string | null;
  note: string;
  wave: number;
  state: AgentState;
  reason: string | null;
  attempts: number;
  sentAt: string | null;
  reportedAt: string | null;
}

/** Every agent of a rollout with its registry data, in plan order (`rds rollout status`). */
export function rolloutAgentStates(db: Db, rolloutId: string): RolloutAgentState[] {
  const rows = db
    .prepare(
      `SELECT a.agent_id, g.address, g.version, g.checked_at, g.note, a.wave, a.state, a.reason, a.attempts, a.sent_at, a.reported_at
       FROM rollout_agents a LEFT JOIN agents g ON g.id = a.agent_id WHERE a.rollout_id = ? ORDER BY a.position, a.rowid`,
    )
    .all(rolloutId) as Record<string, string | number | null>[];
  return rows.map((r) => ({
    agentId: r.agent_id as string,
    address: (r.address as string | null) ?? null,
    version: (r.version as string | null) ?? null,
    checkedAt: (r.checked_at as string | null) ?? null,
    note: (r.note as string | null) ?? '',
    wave: r.wave as number,
    state: r.state as AgentState,
    reason: (r.reason as string | null) ?? null,
    attempts: r.attempts as number,
    sentAt: (r.sent_at as string | null) ?? null,
    reportedAt: (r.reported_at as string | null) ?? null,
  }));
}

/** Agents of a rollout never queued an update mail (a later wave, over --rate, skipped): what verify does not judge. */
export function unsentAgents(db: Db, rolloutId: string): Set<string> {
  const rows = db
    .prepare(
      "SELECT agent_id FROM rollout_agents WHERE rollout_id = ? AND state IN ('pending', 'skipped') AND attempts = 0 AND status != 'sent'",
    )
    .all(rolloutId) as { agent_id: string }[];
  return new Set(rows.map((r) => r.agent_id));
}
