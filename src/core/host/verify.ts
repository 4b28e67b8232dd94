/**
 * The verify table (docs/verify.md): per agent, its latest version report
 * taken in after the rollout's push, compared with the target. Reasons are kept apart:
 * `no-reply` (nothing since the push), `rolled-back` (its install script failed and it
 * went back), `refused` (it refused the package), `wrong-version` (any other version).
 */
import { UsageError } from '../errors.js';
import type { Db } from '../store/db.js';
import { findRollout, rolloutAgents } from './rollout-store.js';
import { unsentAgents } from './rollout-waves-store.js';

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

/** The registry's columns the table shows, in registry order (not the keys: 10,000 of them are 10 MB). */
function listAgentsShown(db: Db): { id: string; address: string; note: string; version: string | null; checkedAt: string | null }[] {
  return db.prepare('SELECT id, address, note, version, checked_at AS checkedAt FROM agents ORDER BY seq').all() as {
    id: string;
    address: string;
    note: string;
    version: string | null;
    checkedAt: string | null;
  }[];
}

export function verifyFleet(db: Db, options: { target?: string; rolloutId?: string; agentIds?: string[] }): VerifyReport {
  // the rollout gives the push time and the install results; with only --target, the
  // latest rollout counts when it was for that target
  const latestOrNamed = findRollout(db, options.rolloutId);
  const rollout = options.rolloutId || !options.target || latestOrNamed?.targetVersion === options.target ? latestOrNamed : undefined;
  const target = options.target ?? rollout?.targetVersion;
  if (!target) throw new UsageError('NO_TARGET', 'nothing to verify against: give --target VERSION or push a rollout first');
  const since = rollout?.createdAt ?? null;
  let agents = listAgentsShown(db);
  const results = new Map(rollout ? rolloutAgents(db, rollout.id).map((r) => [r.agentId, r]) : []);
  // a rollout in waves: judge the agents sent so far; the rest are still pending (or skipped)
  const unsent = rollout ? unsentAgents(db, rollout.id) : new Set<string>();
  if (rollout) agents = agents.filter((a) => results.has(a.id));
  const pending = agents.filter((a) => unsent.has(a.id) && results.get(a.id)?.state === 'pending').length;
  agents = agents.filter((a) => !unsent.has(a.id));
  if (options.agentIds) agents = agents.filter((a) => options.agentIds?.includes(a.id));
  const latest = db.prepare(
    `SELECT software_version, issued_at FROM version_reports
     WHERE agent_id = ? AND (? IS NULL OR received_at >= ?) ORDER BY issued_at DESC, seq DESC LIMIT 1`,
  );
  const rows = agents.map((agent): VerifyRow => {
    const report = latest.get(agent.id, since, since) as { software_version: string; issued_at: string } | undefined;
    const res = results.get(agent.id);
    const base = {
      agentId: agent.id,
      address: agent.address,
      version: agent.version,
      checkedAt: agent.checkedAt,
      note: agent.note,
      detail: res?.detail ?? null,
      logTail: res?.logTail ?? null,
    };
    if (!report) return { ...base, failed: true, reason: 'no-reply' };
    if (report.software_version === target) return { ...base, failed: false, reason: null };
    const outcome = res?.result;
    const reason: FailReason = outcome === 'rolled-back' ? 'rolled-back' : outcome === 'refused' ? 'refused' : 'wrong-version';
    return { ...base, failed: true, reason };
  });
  return { target, rolloutId: rollout?.id ?? null, since, agents: rows, failed: rows.filter((r) => r.failed).length, pending };
}

export function allReplied(report: VerifyReport): boolean {
  return report.agents.every((a) => a.reason !== 'no-reply');
}
