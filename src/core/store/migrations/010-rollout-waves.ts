import type { Migration } from '../migrations.js';

/**
 * Rollouts in waves (docs/rollouts.md): the rollout's state, plan, budgets, timeout,
 * retries, rate, current wave, halt reason and the baselines a resume accepted; per agent
 * its wave, position (registry order, canary first), rollout state, reason, attempts,
 * when it reported and its deadline.
 *
 * One truth for sending stays the outbox item (migration 009), now for the state too:
 * queueing an update mail counts the attempt and clears the deadline; sending it makes a
 * `pending` agent `sent` and sets the deadline (sent + timeout); ending it unsent (refused
 * for good, dropped) makes a `pending` agent `failed` (send-failed); putting it back in the
 * queue makes that agent `pending` again. A mail held (`outbox.held_at`: its rollout is
 * paused or halted) waits without being taken by any flush, and is not ended.
 *
 * Existing rollouts become one wave; their agents' states come from what they have
 * (a result, a sent mail, an ended one), and a rollout whose agents are all final is done.
 */
export const rolloutWaves: Migration = {
  version: 10,
  name: 'rollout-waves',
  sql: `
    ALTER TABLE rollouts ADD COLUMN state TEXT NOT NULL DEFAULT 'running';
    ALTER TABLE rollouts ADD COLUMN waves INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE rollouts ADD COLUMN current_wave INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE rollouts ADD COLUMN max_failures TEXT NOT NULL DEFAULT '0';
    ALTER TABLE rollouts ADD COLUMN max_timeouts TEXT NOT NULL DEFAULT '0';
    ALTER TABLE rollouts ADD COLUMN timeout_ms INTEGER NOT NULL DEFAULT 7200000;
    ALTER TABLE rollouts ADD COLUMN retries INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE rollouts ADD COLUMN rate TEXT;
    ALTER TABLE rollouts ADD COLUMN halt_reason TEXT;
    ALTER TABLE rollouts ADD COLUMN failure_base INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollouts ADD COLUMN timeout_base INTEGER NOT NULL DEFAULT 0;

    ALTER TABLE rollout_agents ADD COLUMN wave INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE rollout_agents ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollout_agents ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
    ALTER TABLE rollout_agents ADD COLUMN reason TEXT;
    ALTER TABLE rollout_agents ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollout_agents ADD COLUMN reported_at TEXT;
    ALTER TABLE rollout_agents ADD COLUMN deadline TEXT;
    CREATE INDEX rollout_agents_state ON rollout_agents(rollout_id, state);
    ALTER TABLE outbox ADD COLUMN held_at TEXT;

    UPDATE rollout_agents SET attempts = (SELECT count(*) FROM outbox o WHERE o.rollout_id = rollout_agents.rollout_id AND o.agent_id = rollout_agents.agent_id);
    UPDATE rollout_agents SET
      state = CASE
        WHEN result IN ('installed', 'already-installed') AND result_version = (SELECT target_version FROM rollouts r WHERE r.id = rollout_id) THEN 'installed'
        WHEN result IN ('installed', 'already-installed') THEN 'failed'
        WHEN result IN ('rolled-back', 'refused') THEN 'failed'
        WHEN status = 'sent' THEN 'sent'
        WHEN status = 'send-failed' AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.rollout_id = rollout_agents.rollout_id
          AND o.agent_id = rollout_agents.agent_id AND o.sent_at IS NULL AND o.state IS NULL) THEN 'failed'
        ELSE 'pending' END,
      reason = CASE
        WHEN result IN ('installed', 'already-installed') AND result_version != (SELECT target_version FROM rollouts r WHERE r.id = rollout_id) THEN 'wrong-version'
        WHEN result IN ('rolled-back', 'refused') THEN result
        WHEN result IS NULL AND status = 'send-failed' AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.rollout_id = rollout_agents.rollout_id
          AND o.agent_id = rollout_agents.agent_id AND o.sent_at IS NULL AND o.state IS NULL) THEN 'send-failed'
        ELSE NULL END,
      reported_at = result_at,
      deadline = CASE WHEN result IS NULL AND status = 'sent' AND sent_at IS NOT NULL
        THEN strftime('%Y-%m-%dT%H:%M:%fZ', julianday(sent_at) + 7200000 / 86400000.0) END;
    UPDATE rollouts SET state = 'done' WHERE NOT EXISTS (
      SELECT 1 FROM rollout_agents a WHERE a.rollout_id = rollouts.id AND a.state NOT IN ('installed', 'failed', 'timed-out', 'skipped'));

    DROP TRIGGER outbox_rollout_sent;
    CREATE TRIGGER outbox_rollout_sent AFTER UPDATE OF sent_at ON outbox
      WHEN NEW.rollout_id IS NOT NULL AND NEW.sent_at IS NOT NULL AND OLD.sent_at IS NULL
    BEGIN
      UPDATE rollout_agents SET status = 'sent', sent_at = NEW.sent_at, error = NULL, message_id = NEW.message_id,
        state = CASE WHEN state = 'pending' THEN 'sent' ELSE state END,
        deadline = strftime('%Y-%m-%dT%H:%M:%fZ', julianday(NEW.sent_at)
          + (SELECT timeout_ms FROM rollouts r WHERE r.id = NEW.rollout_id) / 86400000.0)
        WHERE rollout_id = NEW.rollout_id AND agent_id = NEW.agent_id;
    END;
    DROP TRIGGER outbox_rollout_ended;
    CREATE TRIGGER outbox_rollout_ended AFTER UPDATE OF state ON outbox
      WHEN NEW.rollout_id IS NOT NULL AND NEW.state IS NOT NULL AND OLD.state IS NULL AND NEW.sent_at IS NULL
    BEGIN
      UPDATE rollout_agents SET status = CASE WHEN status = 'sent' THEN status ELSE 'send-failed' END,
        sent_at = CASE WHEN status = 'sent' THEN sent_at END,
        error = NEW.ended_reason, message_id = CASE WHEN status = 'sent' THEN message_id ELSE NEW.message_id END,
        reason = CASE WHEN state = 'pending' THEN 'send-failed' ELSE reason END,
        state = CASE WHEN state = 'pending' THEN 'failed' ELSE state END
        WHERE rollout_id = NEW.rollout_id AND agent_id = NEW.agent_id;
    END;
    CREATE TRIGGER outbox_rollout_requeued AFTER UPDATE OF state ON outbox
      WHEN NEW.rollout_id IS NOT NULL AND NEW.state IS NULL AND OLD.state IS NOT NULL AND NEW.sent_at IS NULL
    BEGIN
      UPDATE rollout_agents SET state = 'pending', reason = NULL
        WHERE rollout_id = NEW.rollout_id AND agent_id = NEW.agent_id AND state = 'failed' AND reason = 'send-failed';
    END;
    CREATE TRIGGER outbox_rollout_queued AFTER INSERT ON outbox WHEN NEW.rollout_id IS NOT NULL
    BEGIN
      UPDATE rollout_agents SET attempts = attempts + 1, deadline = NULL
        WHERE rollout_id = NEW.rollout_id AND agent_id = NEW.agent_id;
    END;
  `,
};
