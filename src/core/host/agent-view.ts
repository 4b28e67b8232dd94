import { UsageError } from '../errors.js';
import type { Db } from '../store/db.js';
import { type PartsAnswers, partsAnswers } from './parts-requests.js';
import { findAgent } from './registry.js';
import { type AgentRollout, agentRollouts } from './rollout-store.js';

/**
 * Everything the host holds about one agent (`rds agents show ID`): registry data, when it
 * was last heard from, its version history, the rollouts it was in with their results (the
 * agent's reason and install-log tail: outside text, neutralised where shown) and its open
 * faults.
 */
export interface AgentView {
  id: string;
  address: string;
  fingerprint: string;
  note: string;
  addedAt: string;
  version: string | null;
  checkedAt: string | null;
  /** the last time a message of this agent was taken in (any type) */
  lastSeen: string | null;
  versions: { kind: string; softwareVersion: string; issuedAt: string; receivedAt: string }[];
  rollouts: AgentRollout[];
  /** parts-requests it sent per rollout sent in parts, and how many the host answered */
  partsRequests: PartsAnswers[];
  openFaults: { deviceId: string; code: string; subunit: string; severity: string; raisedAt: string; acked: boolean }[];
}

/** At most this many version reports, newest first (a box polled for years has thousands). */
export const VERSION_HISTORY = 20;

export function agentView(db: Db, id: string): AgentView {
  const agent = findAgent(db, id);
  if (!agent) throw new UsageError('UNKNOWN_AGENT', `no agent '${id}' in the registry (rds agents list shows the ids)`);
  const added = db.prepare('SELECT added_at FROM agents WHERE id = ?').get(id) as { added_at: string };
  const seen = db.prepare('SELECT max(processed_at) AS at FROM processed_messages WHERE sender = ?').get(id) as { at: string | null };
  const versions = (
    db
      .prepare(
        `SELECT kind, software_version, issued_at, received_at FROM version_reports WHERE agent_id = ?
         ORDER BY issued_at DESC, seq DESC LIMIT ?`,
      )
      .all(id, VERSION_HISTORY) as { kind: string; software_version: string; issued_at: string; received_at: string }[]
  ).map((r) => ({ kind: r.kind, softwareVersion: r.software_version, issuedAt: r.issued_at, receivedAt: r.received_at }));
  const rollouts = agentRollouts(db, id);
  const openFaults = (
    db
      .prepare(
        `SELECT device_id, code, subunit, severity, raised_at, acked_at FROM host_faults
         WHERE agent_id = ? AND cleared_at IS NULL ORDER BY raised_at, device_id`,
      )
      .all(id) as { device_id: string; code: string; subunit: string; severity: string; raised_at: string; acked_at: string | null }[]
  ).map((f) => ({
    deviceId: f.device_id,
    code: f.code,
    subunit: f.subunit,
    severity: f.severity,
    raisedAt: f.raised_at,
    acked: f.acked_at !== null,
  }));
  return {
    id: agent.id,
    address: agent.address,
    fingerprint: agent.fingerprint,
    note: agent.note,
    addedAt: added.added_at,
    version: agent.version,
    checkedAt: agent.checkedAt,
    lastSeen: seen.at,
    versions,
    rollouts,
    partsRequests: partsAnswers(db, { agentId: agent.id }),
    openFaults,
  };
}
