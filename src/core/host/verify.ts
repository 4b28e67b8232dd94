/**
 * The verify table (docs/verify.md): per agent, its latest version report
 * taken in after the rollout's push, compared with the target. Reasons are kept apart:
 * `no-reply` (nothing since the push), `rolled-back` (its install script failed and it
 * went back), `refused` (it refused the package), `wrong-version` (any other version).
 */
import { UsageError } from '../errors.js';
import type { Db } from '../store/db.js';
import { findRollout } from './rollout-store.js';

export type FailReason = 'no-reply' | 'wrong-version' | 'rolled-back' | 'refused';

export interface VerifyRow {
  agentId: string;
  address: string;
  version: string | null;
  checkedAt: string | null;
  note: string;
  failed: boolean;
  reason: FailReason | null;
  /** the agent's own reason from its update result (e.g. "install script exited with status 1") */
  detail: string | null;
  /** the tail of its install log from that result (outside text: neutralise when shown) */
  logTail: string | null;
}

export interface VerifyReport {
  target: string;
  rolloutId: string | null;
  since: string | null;
  agents: VerifyRow[];
  failed: number;
  /** agents of the rollout not sent their update yet (a later wave, or over --rate): not judged (docs/rollouts.md#verify) */
  pending: number;
}

/** One agent as the table needs it: registry columns, its part in the rollout, its latest report since the push. */
interface FleetRow {
  id: string;
  address: string;
  note: string;
  version: string | null;
  checkedAt: string | null;
  reported: string | null;
  state: string | null;
  status: string | null;
  attempts: number | null;
  result: string | null;
  detail: string | null;
  logTail: string | null;
}

/**
 * Every agent (of the rollout, when there is one) in registry order with its latest report
 * since `since`, in one query: not the keys (10,000 of them are 10 MB), no query per agent,
 * no second list of the rollout's agents to look rows up in.
 */
function fleetRows(db: Db, rolloutId: string | null, since: string | null): FleetRow[] {
  const latest = `(SELECT v.software_version FROM version_reports v WHERE v.agent_id = a.id AND (? IS NULL OR v.received_at >= ?)
     ORDER BY v.issued_at DESC, v.seq DESC LIMIT 1) AS reported`;
  const columns = 'a.id, a.address, a.note, a.version, a.checked_at AS "checkedAt"';
  if (!rolloutId) {
    return db
      .prepare(
        `SELECT ${columns}, ${latest}, NULL AS state, NULL AS status, NULL AS attempts, NULL AS result, NULL AS detail, NULL AS "logTail" FROM agents a ORDER BY a.seq`,
      )
      .all(since, since) as FleetRow[];
  }
  return db
    .prepare(
      `SELECT ${columns}, ${latest}, r.state, r.status, r.attempts, r.result, r.result_detail AS detail, r.result_log AS "logTail"
       FROM agents a JOIN rollout_agents r ON r.agent_id = a.id AND r.rollout_id = ? ORDER BY a.seq`,
    )
    .all(since, since, rolloutId) as FleetRow[];
}

/** Not sent yet in a rollout in waves (rollout-waves-store.ts unsentAgents): not judged. */
const unsent = (r: FleetRow) =>
  r.state !== null && (r.state === 'pending' || r.state === 'skipped') && r.attempts === 0 && r.status !== 'sent';

/** The row of one judged agent, its fields in the order `rds verify --json` prints them. */
function judge(r: FleetRow, target: string): VerifyRow {
  const failed = r.reported !== target;
  const reason: FailReason | null =
    r.reported === null
      ? 'no-reply'
      : !failed
        ? null
        : r.result === 'rolled-back'
          ? 'rolled-back'
          : r.result === 'refused'
            ? 'refused'
            : 'wrong-version';
  return {
    agentId: r.id,
    address: r.address,
    version: r.version,
    checkedAt: r.checkedAt,
    note: r.note,
    failed,
    reason,
    detail: r.detail,
    logTail: r.logTail,
  };
}

export function verifyFleet(db: Db, options: { target?: string; rolloutId?: string; agentIds?: string[] }): VerifyReport {
  // the rollout gives the push time and the install results; with only --target, the
  // latest rollout counts when it was for that target
  const latestOrNamed = findRollout(db, options.rolloutId);
  const rollout = options.rolloutId || !options.target || latestOrNamed?.targetVersion === options.target ? latestOrNamed : undefined;
  const target = options.target ?? rollout?.targetVersion;
  if (!target) throw new UsageError('NO_TARGET', 'nothing to verify against: give --target VERSION or push a rollout first');
  const since = rollout?.createdAt ?? null;
  // a rollout in waves: judge the agents sent so far; the rest are still pending (or skipped)
  const wanted = options.agentIds ? new Set(options.agentIds) : undefined;
  let pending = 0;
  let failed = 0;
  const rows: VerifyRow[] = [];
  for (const r of fleetRows(db, rollout?.id ?? null, since)) {
    if (unsent(r)) {
      if (r.state === 'pending') pending++;
      continue;
    }
    if (wanted && !wanted.has(r.id)) continue;
    const row = judge(r, target);
    if (row.failed) failed++;
    rows.push(row);
  }
  return { target, rolloutId: rollout?.id ?? null, since, agents: rows, failed, pending };
}

export function allReplied(report: VerifyReport): boolean {
  return report.agents.every((a) => a.reason !== 'no-reply');
}
