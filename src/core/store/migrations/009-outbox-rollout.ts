import type { Migration } from '../migrations.js';

/**
 * An update mail's rollout and agent in typed columns of its outbox item (they were a
 * `"rollout:agent"` ref string only), and one truth for the agent's send state: the
 * outbox item. Marking it sent or ended (by any flush, `rds outbox drop`, a removed agent)
 * records the rollout status in the same statement, so push-all, `rds inbox` flushing a
 * leftover update mail, and `push-all --retry-failed` all see the same status without a
 * repair pass. The triggers are the outbox's hook into the rollout tables: no code outside
 * core/host/rollout-store.ts writes those (docs/locks.md).
 */
export const outboxRollout: Migration = {
  version: 9,
  name: 'outbox-rollout',
  sql: `
    ALTER TABLE outbox ADD COLUMN rollout_id TEXT;
    ALTER TABLE outbox ADD COLUMN agent_id TEXT;
    UPDATE outbox SET rollout_id = substr(ref, 1, instr(ref, ':') - 1), agent_id = substr(ref, instr(ref, ':') + 1)
      WHERE kind = 'update' AND instr(ref, ':') > 1;
    CREATE INDEX outbox_rollout ON outbox(rollout_id, agent_id) WHERE rollout_id IS NOT NULL;
    CREATE TRIGGER outbox_rollout_sent AFTER UPDATE OF sent_at ON outbox
      WHEN NEW.rollout_id IS NOT NULL AND NEW.sent_at IS NOT NULL AND OLD.sent_at IS NULL
    BEGIN
      UPDATE rollout_agents SET status = 'sent', sent_at = NEW.sent_at, error = NULL, message_id = NEW.message_id
        WHERE rollout_id = NEW.rollout_id AND agent_id = NEW.agent_id;
    END;
    CREATE TRIGGER outbox_rollout_ended AFTER UPDATE OF state ON outbox
      WHEN NEW.rollout_id IS NOT NULL AND NEW.state IS NOT NULL AND OLD.state IS NULL AND NEW.sent_at IS NULL
    BEGIN
      UPDATE rollout_agents SET status = 'send-failed', sent_at = NULL, error = NEW.ended_reason, message_id = NEW.message_id
        WHERE rollout_id = NEW.rollout_id AND agent_id = NEW.agent_id;
    END;
  `,
};
