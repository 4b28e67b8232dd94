import type { Migration } from '../migrations.js';

/** Tables of both roles; a state dir belongs to one node, but the schema is shared. */
export const base: Migration = {
  version: 1,
  name: 'base',
  sql: `
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    -- every message id ever acted on (replay protection, docs/protocol.md#delivery-at-least-once-mail-exactly-once-install)
    CREATE TABLE processed_messages (
      id TEXT PRIMARY KEY,
      type TEXT NOT NULL,
      sender TEXT NOT NULL,
      processed_at TEXT NOT NULL,
      outcome TEXT NOT NULL
    );

    -- written before sending, marked after (docs/state.md#outbox: nothing only in memory)
    CREATE TABLE outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      message_id TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      ref TEXT,
      env_from TEXT NOT NULL,
      env_to TEXT NOT NULL,
      raw BLOB,                        -- the exact mail, or NULL when built at send time from compose
      compose TEXT,                    -- JSON recipe for large mails (update packages): not stored N times
      created_at TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      sent_at TEXT
    );
    CREATE INDEX outbox_unsent ON outbox(sent_at) WHERE sent_at IS NULL;

    -- refused mail: where it went and why; never deleted
    CREATE TABLE quarantine (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      received_at TEXT NOT NULL,
      reason_code TEXT NOT NULL,
      reason TEXT NOT NULL,
      from_addr TEXT,
      subject TEXT,
      mail_message_id TEXT,
      payload_id TEXT,
      location TEXT
    );

    -- agent: what runs now
    CREATE TABLE installed (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      software_version TEXT NOT NULL,
      rom_version TEXT,
      release TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE TABLE modules (
      name TEXT PRIMARY KEY,
      version TEXT NOT NULL,
      date TEXT NOT NULL
    );
    -- agent: one row per package ever attempted; step is written before each step runs
    CREATE TABLE install_journal (
      package_id TEXT PRIMARY KEY,
      target_version TEXT NOT NULL,
      previous_version TEXT NOT NULL,
      previous_release TEXT NOT NULL,
      new_release TEXT NOT NULL,
      stage_dir TEXT NOT NULL,
      step TEXT NOT NULL,
      outcome TEXT,
      detail TEXT,
      command_id TEXT,
      manifest TEXT NOT NULL,
      started_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );

    -- host: the fleet registry, in registry order (seq)
    CREATE TABLE agents (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      address TEXT NOT NULL,
      public_key TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      note TEXT NOT NULL DEFAULT '',
      version TEXT,
      checked_at TEXT,
      added_at TEXT NOT NULL
    );
    CREATE TABLE rollouts (
      id TEXT PRIMARY KEY,
      package_id TEXT NOT NULL,
      target_version TEXT NOT NULL,
      file TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE rollout_agents (
      rollout_id TEXT NOT NULL REFERENCES rollouts(id),
      agent_id TEXT NOT NULL,
      status TEXT NOT NULL,            -- queued | sent | send-failed
      message_id TEXT,
      sent_at TEXT,
      error TEXT,
      result TEXT,                     -- installed | rolled-back | refused (from update-result)
      result_version TEXT,
      result_detail TEXT,
      result_at TEXT,
      PRIMARY KEY (rollout_id, agent_id)
    );
    -- host: every version report or update result taken in
    CREATE TABLE version_reports (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      message_id TEXT NOT NULL UNIQUE,
      agent_id TEXT NOT NULL,
      kind TEXT NOT NULL,              -- version-report | update-result
      software_version TEXT NOT NULL,
      report_text TEXT NOT NULL,
      in_reply_to TEXT,
      received_at TEXT NOT NULL,
      issued_at TEXT NOT NULL
    );
    CREATE INDEX version_reports_agent ON version_reports(agent_id, issued_at);
    -- host: requests sent (version/counter requests), to tie replies to them
    CREATE TABLE requests (
      id TEXT PRIMARY KEY,
      type TEXT NOT NULL,
      agent_id TEXT NOT NULL,
      rollout_id TEXT,
      created_at TEXT NOT NULL,
      answered_at TEXT,
      answer TEXT
    );
  `,
};
