import type { Migration } from '../migrations.js';

/**
 * Update parts (docs/protocol.md#update-parts), host side.
 *
 * `rollout_parts`: how a rollout's package is cut, decided once when it is pushed (part
 * size, N, where the shared body starts in the file, every part's SHA-256), so the rollout
 * engine and the answers to parts-requests cut the very same parts without hashing the
 * package again.
 *
 * `parts_answers`: per rollout and agent, the parts-requests taken in, how many were
 * answered (bounded by `parts.maxResends`), how many were refused for being over it, and
 * the last list asked for (`rds rollout status`, `rds agents show`).
 *
 * `outbox.part`: the part number of an update-part mail (NULL for any other mail). An
 * agent's N part mails are one attempt: only part 1 counts it, and the agent is `sent` when
 * its last part is, not before (an unsent or failed sibling part keeps it where it is).
 * Re-sent parts (answers to a parts-request) carry no rollout id: they change no rollout state.
 * (The "last part" test sits in the trigger's UPDATE, not its WHEN: PostgreSQL allows no
 * subquery in a trigger's WHEN.)
 */
export const hostUpdateParts: Migration = {
  version: 16,
  name: 'host-update-parts',
  sql: `
    CREATE TABLE rollout_parts (
      rollout_id TEXT PRIMARY KEY REFERENCES rollouts(id),
      body_offset INTEGER NOT NULL,
      total_size INTEGER NOT NULL,
      part_size INTEGER NOT NULL,
      parts INTEGER NOT NULL,
      hashes TEXT NOT NULL,
      mail_limit INTEGER NOT NULL,
      overhead INTEGER NOT NULL
    );
    CREATE TABLE parts_answers (
      rollout_id TEXT NOT NULL,
      agent_id TEXT NOT NULL,
      requests INTEGER NOT NULL DEFAULT 0,
      answered INTEGER NOT NULL DEFAULT 0,
      refused INTEGER NOT NULL DEFAULT 0,
      parts_sent INTEGER NOT NULL DEFAULT 0,
      last_missing TEXT,
      last_at TEXT,
      PRIMARY KEY (rollout_id, agent_id)
    );
    ALTER TABLE outbox ADD COLUMN part INTEGER;

    DROP TRIGGER outbox_rollout_queued;
    CREATE TRIGGER outbox_rollout_queued AFTER INSERT ON outbox
      WHEN NEW.rollout_id IS NOT NULL AND (NEW.part IS NULL OR NEW.part = 1)
    BEGIN
      UPDATE rollout_agents SET attempts = attempts + 1, deadline = NULL
        WHERE rollout_id = NEW.rollout_id AND agent_id = NEW.agent_id;
    END;
    DROP TRIGGER outbox_rollout_sent;
    CREATE TRIGGER outbox_rollout_sent AFTER UPDATE OF sent_at ON outbox
      WHEN NEW.rollout_id IS NOT NULL AND NEW.sent_at IS NOT NULL AND OLD.sent_at IS NULL
    BEGIN
      UPDATE rollout_agents SET status = 'sent', sent_at = NEW.sent_at, error = NULL, message_id = NEW.message_id,
        state = CASE WHEN state = 'pending' THEN 'sent' ELSE state END,
        deadline = strftime('%Y-%m-%dT%H:%M:%fZ', julianday(NEW.sent_at)
          + (SELECT timeout_ms FROM rollouts r WHERE r.id = NEW.rollout_id) / 86400000.0)
        WHERE rollout_id = NEW.rollout_id AND agent_id = NEW.agent_id
          AND (NEW.part IS NULL OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.rollout_id = NEW.rollout_id
            AND o.agent_id = NEW.agent_id AND o.part IS NOT NULL AND o.sent_at IS NULL AND o.seq <> NEW.seq));
    END;
  `,
};
