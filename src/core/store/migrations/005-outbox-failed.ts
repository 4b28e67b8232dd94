import type { Migration } from '../migrations.js';

/**
 * An outbox item can end without being sent: `failed` when the server refused it for good
 * (5xx, e.g. `550 5.1.1` for an address that does not exist) or its agent was removed,
 * `dropped` by `rds outbox drop`. Ended items are never tried again by a flush; the
 * reason stays (`last_error`, `ended_reason`) for `rds outbox list`. `state` is NULL while
 * the item waits or after it was sent (`sent_at`).
 */
export const outboxFailed: Migration = {
  version: 5,
  name: 'outbox-failed',
  sql: `
    ALTER TABLE outbox ADD COLUMN state TEXT CHECK (state IS NULL OR state IN ('failed', 'dropped'));
    ALTER TABLE outbox ADD COLUMN ended_at TEXT;
    ALTER TABLE outbox ADD COLUMN ended_reason TEXT;
    ALTER TABLE outbox ADD COLUMN last_tried_at TEXT;
    DROP INDEX outbox_unsent;
    CREATE INDEX outbox_unsent ON outbox(sent_at) WHERE sent_at IS NULL AND state IS NULL;
  `,
};
