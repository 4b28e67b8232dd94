import type { Migration } from '../migrations.js';

/**
 * Indexes for the host's per-mail lookups (bench/store.mjs): the sender of each mail is
 * found by `lower(address)` (src/core/host/registry.ts, once per address and pass) and a
 * registration checks the key's fingerprint; without an index each is a scan of every agent,
 * so taking in the whole fleet's mail grew with the square of its size. The same indexes on
 * SQLite and PostgreSQL (an index on an expression on both; no change of meaning).
 */
export const lookupIndexes: Migration = {
  version: 18,
  name: 'lookup-indexes',
  sql: `
    CREATE INDEX agents_address ON agents(lower(address));
    CREATE INDEX agents_fingerprint ON agents(fingerprint);
  `,
};
