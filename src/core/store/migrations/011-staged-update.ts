import type { Migration } from '../migrations.js';

/**
 * The agent's staged update (docs/install.md#install-window): one update that arrived outside
 * the install window, verified and kept (its package under STATE/staged/, 0600) until the
 * window opens. One slot: a newer package replaces an older one.
 */
export const stagedUpdate: Migration = {
  version: 11,
  name: 'staged-update',
  sql: `
    CREATE TABLE staged_update (
      slot INTEGER PRIMARY KEY CHECK (slot = 1),
      package_id TEXT NOT NULL,
      software_version TEXT NOT NULL,
      command_id TEXT NOT NULL,
      rollout_id TEXT NOT NULL,
      file TEXT NOT NULL,
      staged_at TEXT NOT NULL,
      deferred_until TEXT NOT NULL
    );
  `,
};
