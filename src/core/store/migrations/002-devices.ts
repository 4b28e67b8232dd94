import type { Migration } from '../migrations.js';

/** Devices, fault events and counter readings (agent), and what the host receives of them. */
export const devices: Migration = {
  version: 2,
  name: 'devices',
  sql: `
    -- agent: the devices it watches; config is driver-specific JSON (may hold an SNMP
    -- community or v3 keys: never logged, redacted when listed)
    CREATE TABLE devices (
      id TEXT PRIMARY KEY,
      driver TEXT NOT NULL CHECK (driver IN ('snmp', 'simulated')),
      config TEXT NOT NULL,
      added_at TEXT NOT NULL
    );

    -- agent: what the fault state machine carries from one poll to the next
    CREATE TABLE device_poll_state (
      device_id TEXT PRIMARY KEY,
      consecutive_failures INTEGER NOT NULL DEFAULT 0,
      last_poll_at TEXT,
      last_ok_at TEXT,
      last_error TEXT,
      alert_events INTEGER,            -- prtAlertAllEvents at the last poll (RFC 3805)
      alert_rows INTEGER               -- prtAlertTable rows at the last walk
    );

    -- agent: one row per fault occurrence (device, code, subunit), open until cleared.
    -- report_* track the "raised" report, clear_report_* the "cleared" report:
    --   pending -> reported -> acked, or -> (resent once) -> unacknowledged
    CREATE TABLE fault_events (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      event_id TEXT NOT NULL UNIQUE,
      device_id TEXT NOT NULL,
      code TEXT NOT NULL,
      subunit TEXT NOT NULL DEFAULT '',
      severity TEXT NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
      source TEXT NOT NULL,
      detail TEXT,
      raised_at TEXT NOT NULL,
      last_seen_at TEXT NOT NULL,
      clean_polls INTEGER NOT NULL DEFAULT 0,
      cleared_at TEXT,
      report_state TEXT NOT NULL DEFAULT 'pending'
        CHECK (report_state IN ('pending', 'reported', 'acked', 'unacknowledged')),
      reported_at TEXT,
      resent_at TEXT,
      acked_at TEXT,
      report_message_id TEXT,
      clear_report_state TEXT
        CHECK (clear_report_state IN ('pending', 'reported', 'acked', 'unacknowledged')),
      clear_reported_at TEXT,
      clear_resent_at TEXT,
      clear_acked_at TEXT,
      clear_report_message_id TEXT
    );
    -- the rule "one open event per (device, code, subunit)", enforced by the database too
    CREATE UNIQUE INDEX fault_events_open ON fault_events(device_id, code, subunit) WHERE cleared_at IS NULL;
    CREATE INDEX fault_events_device ON fault_events(device_id, raised_at);
    CREATE INDEX fault_events_report ON fault_events(report_state) WHERE report_state IN ('pending', 'reported');
    CREATE INDEX fault_events_clear_report ON fault_events(clear_report_state) WHERE clear_report_state IN ('pending', 'reported');
    CREATE INDEX fault_events_report_message ON fault_events(report_message_id);
    CREATE INDEX fault_events_clear_report_message ON fault_events(clear_report_message_id);

    -- agent: one reading per device per collect-counters run, stored in the host's format
    -- (reading = CounterReading JSON); flags name resets and wraps found against the
    -- previous reading of the same device
    CREATE TABLE counter_readings (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      reading_id TEXT NOT NULL UNIQUE,
      run_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      serial TEXT,
      read_at TEXT NOT NULL,
      total INTEGER,
      mono INTEGER,
      colour INTEGER,
      flags TEXT NOT NULL DEFAULT '',
      reading TEXT NOT NULL,
      sent_at TEXT,
      sent_message_id TEXT,
      UNIQUE (run_id, device_id)
    );
    CREATE INDEX counter_readings_device ON counter_readings(device_id, id);
    CREATE INDEX counter_readings_unsent ON counter_readings(id) WHERE sent_at IS NULL;
  `,
};
