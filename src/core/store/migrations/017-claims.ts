import type { Migration } from '../migrations.js';

/**
 * Exactly once with several inbox workers (src/core/message/claim.ts,
 * docs/protocol.md#several-workers): the replay ledger keeps where the processed copy of a
 * mail was (its UID in the mailbox), so that the same mail met again (fetched by two
 * workers, or left in INBOX by a pass killed between its commit and its move) is moved
 * without acting, while another copy of it stays a replay. NULL for rows from before.
 */
export const claims: Migration = {
  version: 17,
  name: 'claims',
  sql: `
    ALTER TABLE processed_messages ADD COLUMN location TEXT;
  `,
};
