import type { Migration } from '../migrations.js';

/**
 * The audit trail (docs/audit.md), on the host and on agents alike: `audit_log` holds each
 * entry's canonical JSON and the chain head after it; `audit_checkpoints` holds the signed
 * checkpoints (count + head, signed with the node key). `at` is a copy of the entry's time
 * for `--since`; verify checks it against the entry.
 */
export const audit: Migration = {
  version: 14,
  name: 'audit',
  sql: `
    CREATE TABLE audit_log (
      seq INTEGER PRIMARY KEY,
      at TEXT NOT NULL,
      entry TEXT NOT NULL,
      hash TEXT NOT NULL
    );
    CREATE INDEX audit_log_at ON audit_log(at);
    CREATE TABLE audit_checkpoints (
      count INTEGER PRIMARY KEY,
      head TEXT NOT NULL,
      at TEXT NOT NULL,
      signed TEXT NOT NULL
    );
  `,
};
