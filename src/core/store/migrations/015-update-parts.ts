import type { Migration } from '../migrations.js';

/**
 * Update parts in reassembly on the agent (docs/install.md#update-parts): one row per package
 * (rollout + package id) with what its parts signed (N; part 1's session-key packets, total
 * size and part list once part 1 came), and one row per part stored under
 * STATE/parts/<dir>/ (0700, parts 0600). `state` is `open` while parts are gathered, or
 * `refused` (a refusal told to the host once; later parts of it are not stored) until the
 * deadline drops it.
 */
export const updateParts: Migration = {
  version: 15,
  name: 'update-parts',
  sql: `
    CREATE TABLE part_packages (
      rollout_id TEXT NOT NULL,
      package_id TEXT NOT NULL,
      dir TEXT NOT NULL,
      software_version TEXT NOT NULL,
      parts INTEGER NOT NULL,
      state TEXT NOT NULL DEFAULT 'open',
      refused_code TEXT,
      first_payload_id TEXT,
      last_payload_id TEXT NOT NULL,
      pkesk TEXT,
      total_size INTEGER,
      part_hashes TEXT,
      first_seen TEXT NOT NULL,
      last_part_at TEXT NOT NULL,
      requests INTEGER NOT NULL DEFAULT 0,
      last_request_at TEXT,
      PRIMARY KEY (rollout_id, package_id)
    );
    CREATE TABLE part_files (
      rollout_id TEXT NOT NULL,
      package_id TEXT NOT NULL,
      part INTEGER NOT NULL,
      sha256 TEXT NOT NULL,
      size INTEGER NOT NULL,
      stored_at TEXT NOT NULL,
      PRIMARY KEY (rollout_id, package_id, part)
    );
  `,
};
