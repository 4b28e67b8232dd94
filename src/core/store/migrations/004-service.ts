import type { Migration } from '../migrations.js';

/** The service business (issue 17): supply levels, host events, last heard, alert batches (host); heartbeats (agent). */
export const service: Migration = {
  version: 4,
  name: 'service',
  sql: `
    -- host: one row per supply per counter reading (remaining %, kind by type and name)
    CREATE TABLE host_supply_levels (
      agent_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      supply_index TEXT NOT NULL,
      name TEXT NOT NULL,
      kind TEXT NOT NULL,
      level REAL NOT NULL,
      read_at TEXT NOT NULL,
      reading_id TEXT NOT NULL,
      PRIMARY KEY (agent_id, device_id, supply_index, read_at)
    );
    -- host: a level jump up (a new cartridge), found when the reading was taken in
    CREATE TABLE host_supply_replacements (
      agent_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      supply_index TEXT NOT NULL,
      replaced_at TEXT NOT NULL,
      from_level REAL NOT NULL,
      to_level REAL NOT NULL,
      found_at TEXT NOT NULL,
      PRIMARY KEY (agent_id, device_id, supply_index, replaced_at)
    );
    -- host: fault-like events the host raises itself (supply-low, supply-empty,
    -- agent-silent, device-silent); one open event per (kind, agent, device, subject)
    CREATE TABLE host_events (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      kind TEXT NOT NULL,
      agent_id TEXT NOT NULL,
      device_id TEXT NOT NULL DEFAULT '',
      subject TEXT NOT NULL DEFAULT '',
      severity TEXT NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
      detail TEXT NOT NULL DEFAULT '',
      raised_at TEXT NOT NULL,
      cleared_at TEXT,
      clear_reason TEXT
    );
    CREATE UNIQUE INDEX host_events_open ON host_events(kind, agent_id, device_id, subject) WHERE cleared_at IS NULL;
    CREATE INDEX host_events_raised ON host_events(raised_at);
    -- host: when each agent last sent anything accepted (host receive time) and each device last answered
    CREATE TABLE host_heard (
      agent_id TEXT PRIMARY KEY,
      last_heard_at TEXT NOT NULL,
      last_type TEXT NOT NULL
    );
    CREATE TABLE host_device_seen (
      agent_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      last_answered_at TEXT,
      first_reported_at TEXT NOT NULL,
      reported_at TEXT NOT NULL,
      PRIMARY KEY (agent_id, device_id)
    );
    -- host: alert mail, one batch per recipient per interval
    CREATE TABLE alert_queue (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      recipient TEXT NOT NULL,
      source TEXT NOT NULL,
      ref TEXT NOT NULL,
      kind TEXT NOT NULL,
      severity TEXT NOT NULL,
      agent_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      subject TEXT NOT NULL,
      detail TEXT NOT NULL,
      event_at TEXT NOT NULL,
      queued_at TEXT NOT NULL,
      sent_at TEXT,
      UNIQUE (recipient, source, ref)
    );
    CREATE INDEX alert_queue_unsent ON alert_queue(recipient) WHERE sent_at IS NULL;
    CREATE TABLE alert_recipients (
      recipient TEXT PRIMARY KEY,
      last_sent_at TEXT NOT NULL
    );
    CREATE TABLE service_state (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
    -- agent: the heartbeats it sent
    CREATE TABLE agent_heartbeats (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      message_id TEXT NOT NULL,
      sent_at TEXT NOT NULL
    );
  `,
};
