import type { Clock } from '../clock.js';
import type { Db } from '../store/db.js';
import { type Check, pass } from './check.js';

interface Row {
  software_version: string;
  package_id: string;
  parts: number;
  first_seen: string;
  held: number;
  requests: number;
}

/**
 * Packages in reassembly on the agent (docs/install.md#update-parts): no line when there is
 * none; else each with its parts held of N, its age and the requests sent for it.
 */
export function partsChecks(db: Db | undefined, clock: Clock): Check[] {
  if (!db) return [];
  let rows: Row[];
  try {
    rows = db
      .prepare(
        `SELECT p.software_version, p.package_id, p.parts, p.first_seen, p.requests,
                (SELECT COUNT(*) FROM part_files f WHERE f.rollout_id = p.rollout_id AND f.package_id = p.package_id) AS held
         FROM part_packages p WHERE p.state = 'open' ORDER BY p.first_seen`,
      )
      .all() as Row[];
  } catch {
    return []; // a store from before migration 015
  }
  if (rows.length === 0) return [];
  const now = clock.now().getTime();
  const shown = rows.map(
    (r) =>
      `${r.software_version} (package ${r.package_id}) ${r.held} of ${r.parts} parts, first ${age(now - Date.parse(r.first_seen))} ago, ${r.requests} request(s) sent`,
  );
  return [pass('update parts', `${rows.length} package${rows.length === 1 ? '' : 's'} in reassembly: ${shown.join('; ')}`)];
}

function age(ms: number): string {
  if (ms < 3_600_000) return `${Math.max(0, Math.floor(ms / 60_000))}m`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h`;
  return `${Math.floor(ms / 86_400_000)}d`;
}
