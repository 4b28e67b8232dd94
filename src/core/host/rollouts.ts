import type { Db } from '../store/db.js';

/**
 * One line per rollout for `rds rollouts`, newest first. The counts come from
 * rollout_agents: `sent` = the mail went out (status sent); `installed` = the agent
 * reported the install done; `failed` = the send failed, or the agent reported any other
 * outcome (rolled-back, refused); `pending` = the rest (queued, or sent and no result yet).
 * So agents = installed + failed + pending.
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
}

interface Row {
  id: string;
  package_id: string;
  target_version: string;
  created_at: string;
  agents: number;
  sent: number;
  installed: number;
  failed: number;
}

export function listRollouts(db: Db): RolloutSummary[] {
  const rows = db
    .prepare(
      `SELECT r.id, r.package_id, r.target_version, r.created_at,
              COUNT(a.agent_id) AS agents,
              COALESCE(SUM(a.status = 'sent'), 0) AS sent,
              COALESCE(SUM(a.result = 'installed'), 0) AS installed,
              COALESCE(SUM(a.status = 'send-failed' OR (a.result IS NOT NULL AND a.result != 'installed')), 0) AS failed
       FROM rollouts r LEFT JOIN rollout_agents a ON a.rollout_id = r.id
       GROUP BY r.id
       ORDER BY r.created_at DESC, r.rowid DESC`,
    )
    .all() as Row[];
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
  }));
}
