import type { Migration } from '../migrations.js';

/**
 * Issue 10 parts 2 and 3: the tail of an agent's install log that came with its update
 * result (bounded and checked on the way in, neutralised whenever shown), why it was cut
 * (LOG_TAIL_TRUNCATED) if it was, and when a quarantined mail was released back to the inbox.
 */
export const logTailQuarantine: Migration = {
  version: 6,
  name: 'log-tail-quarantine',
  sql: `
    ALTER TABLE rollout_agents ADD COLUMN result_log TEXT;
    ALTER TABLE rollout_agents ADD COLUMN result_log_note TEXT;
    ALTER TABLE quarantine ADD COLUMN released_at TEXT;
  `,
};
